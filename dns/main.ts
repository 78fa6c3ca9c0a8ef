#!/usr/bin/env node
import { notImplemented } from '../src/shared/not_implemented.js';

notImplemented('romana-dns', 7);
