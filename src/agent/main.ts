#!/usr/bin/env node
import { notImplemented } from '../shared/not_implemented.js';

notImplemented('romana-agent', 4);
