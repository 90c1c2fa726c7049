// Chooses how a command reaches Modelgate: the control API when a server is named, else the local store.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { openLocalClient, openRemoteClient, type ModelgateClient } from './client.js';
import { configFrom, type GlobalOptions } from './main.js';

export function rootOf(cmd: Command): Command {
  let c = cmd;
  while (c.parent) c = c.parent;
  return c;
}

export async function withClient<T>(cmd: Command, fn: (client: ModelgateClient) => Promise<T>): Promise<T> {
  const root = rootOf(cmd);
  const g = root.opts<GlobalOptions>();
  let client: ModelgateClient;
  if (g.url) {
    let key = g.key;
    if (!key) {
      const file = join(configFrom(root).home, 'admin.key');
      if (existsSync(file)) key = readFileSync(file, 'utf8').trim();
    }
    client = openRemoteClient(g.url, key);
  } else {
    client = await openLocalClient(configFrom(root));
  }
  try {
    return await fn(client);
  } finally {
    await client.close();
  }
}

/** Options of a command including --json, wherever it was given. */
export function wantsJson(cmd: Command): boolean {
  return Boolean(cmd.optsWithGlobals<{ json?: boolean }>().json);
}
