// Content-addressed, write-once blob store on the local file system: $MODELGATE_HOME/artifacts/sha256/ab/cd/<hash>.
// The same bytes are stored once; a blob is never rewritten; every read checks the hash.
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { chmod, link, readFile, readdir, rm, stat, unlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { ModelgateError } from '../errors/index.js';

export interface PutResult {
  sha256: string;
  size: number;
  /** True when this call stored the blob; false when identical bytes were already there. */
  created: boolean;
}

export class ArtifactStore {
  readonly root: string;

  constructor(home: string) {
    this.root = join(home, 'artifacts');
  }

  pathOf(sha256: string): string {
    if (!/^[0-9a-f]{64}$/.test(sha256)) throw new Error(`not a sha256: ${sha256}`);
    return join(this.root, 'sha256', sha256.slice(0, 2), sha256.slice(2, 4), sha256);
  }

  async put(bytes: Uint8Array): Promise<PutResult> {
    const sha256 = sha256Hex(bytes);
    const target = this.pathOf(sha256);
    if (await exists(target)) return { sha256, size: bytes.byteLength, created: false };
    mkdirSync(dirname(target), { recursive: true });
    const tmpDir = join(this.root, 'tmp');
    mkdirSync(tmpDir, { recursive: true });
    const tmp = join(tmpDir, `${sha256}.${randomBytes(6).toString('hex')}`);
    await writeFile(tmp, bytes, { flag: 'wx', mode: 0o444, flush: true });
    try {
      // link() fails if the target exists, so a concurrent writer of the same bytes cannot be overwritten.
      await link(tmp, target);
      return { sha256, size: bytes.byteLength, created: true };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') return { sha256, size: bytes.byteLength, created: false };
      throw e;
    } finally {
      await unlink(tmp).catch(() => undefined);
    }
  }

  /** Reads a blob and checks it still has the hash it is stored under. */
  async read(sha256: string): Promise<Buffer> {
    let bytes: Buffer;
    try {
      bytes = await readFile(this.pathOf(sha256));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
        throw new ModelgateError('MG_ERR_ARTIFACT_MISSING', `Artifact ${sha256} is missing from ${this.root}. Restore it from backup.`, { sha256 });
      }
      throw e;
    }
    const actual = sha256Hex(bytes);
    if (actual !== sha256) {
      throw new ModelgateError('MG_ERR_ARTIFACT_CORRUPTED', `Artifact ${sha256} is corrupted: its bytes now hash to ${actual}. Restore it from backup or register the model again.`, { expected: sha256, actual });
    }
    return bytes;
  }

  async remove(sha256: string): Promise<void> {
    const p = this.pathOf(sha256);
    await chmod(p, 0o644).catch(() => undefined);
    await rm(p, { force: true });
  }

  async has(sha256: string): Promise<boolean> {
    return exists(this.pathOf(sha256));
  }

  /** Every stored hash (for maintenance and tests). */
  async list(): Promise<string[]> {
    const base = join(this.root, 'sha256');
    const out: string[] = [];
    for (const a of await readdir(base).catch(() => [] as string[])) {
      for (const b of await readdir(join(base, a)).catch(() => [] as string[])) {
        for (const f of await readdir(join(base, a, b)).catch(() => [] as string[])) out.push(f);
      }
    }
    return out.sort();
  }
}

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

async function exists(p: string): Promise<boolean> {
  try {
    await stat(p);
    return true;
  } catch {
    return false;
  }
}
