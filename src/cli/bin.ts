#!/usr/bin/env node
// Process entry of the `modelgate` command (bin/modelgate.js and `npm start` run this file).
import { main, reportError } from './main.js';

main(process.argv).then(
  (code) => {
    if (code !== 0) process.exitCode = code;
  },
  (e: unknown) => {
    process.exitCode = reportError(e);
  },
);
