#!/usr/bin/env node
// Process entry of the `modelgate` command (bin/modelgate.js and `npm start` run this file).
import { main, reportError } from './main.js';

// `modelgate … | head` closes stdout early: that is the reader's choice, not an error worth a stack trace.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw e;
});

main(process.argv).then(
  (code) => {
    if (code !== 0) process.exitCode = code;
  },
  (e: unknown) => {
    process.exitCode = reportError(e);
  },
);
