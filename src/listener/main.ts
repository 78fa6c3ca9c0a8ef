#!/usr/bin/env node
import { notImplemented } from '../shared/not_implemented.js';

notImplemented('romana-listener', 6);
