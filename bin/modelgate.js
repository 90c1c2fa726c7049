#!/usr/bin/env node
// The installed entry point: the compiled CLI (npm run build writes dist/).
import '../dist/src/cli/bin.js';
