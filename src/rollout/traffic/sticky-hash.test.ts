import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mulberry32 } from '../../random.js';
import { bucketOf, BUCKETS, murmur3 } from './sticky-hash.js';

// Expected values come from this independent pure-Python MurmurHash3 x86_32 (python3, no mmh3 needed):
//
//   def murmur3(data: bytes, seed: int = 0) -> int:
//       c1, c2, m = 0xcc9e2d51, 0x1b873593, 0xffffffff
//       h = seed; n = len(data) // 4 * 4
//       for i in range(0, n, 4):
//           k = int.from_bytes(data[i:i+4], 'little')
//           k = (k * c1) & m; k = ((k << 15) | (k >> 17)) & m; k = (k * c2) & m
//           h ^= k; h = ((h << 13) | (h >> 19)) & m; h = (h * 5 + 0xe6546b64) & m
//       k = int.from_bytes(data[n:], 'little')
//       if len(data) - n:
//           k = (k * c1) & m; k = ((k << 15) | (k >> 17)) & m; k = (k * c2) & m; h ^= k
//       h ^= len(data)
//       h ^= h >> 16; h = (h * 0x85ebca6b) & m; h ^= h >> 13; h = (h * 0xc2b2ae35) & m; h ^= h >> 16
//       return h
//
//   murmur3(s.encode('utf-8'));  bucket: murmur3(f"{deployment}:{key}".encode()) % 10000
const VECTORS: [string, number][] = [
  ['', 0],
  ['a', 0x3c2569b2],
  ['ab', 0x9bbfd75f],
  ['abc', 0xb3dd93fa],
  ['abcd', 0x43ed676a],
  ['hello', 0x248bfa47],
  ['The quick brown fox jumps over the lazy dog', 0x2e4ff723],
  ['é', 0x10110787],
  ['Grüße, 東京 🚀', 0xa4a3cc36],
];

test('murmur3 matches the published and Python reference vectors, over UTF-8 bytes', () => {
  for (const [text, expected] of VECTORS) assert.equal(murmur3(text), expected, JSON.stringify(text));
});

test('bucketOf hashes "deployment:key" into 0..9999 (vectors from the Python reference)', () => {
  assert.equal(BUCKETS, 10_000);
  assert.equal(bucketOf('weather', 'user-1'), 5581);
  assert.equal(bucketOf('weather', 'user-2'), 6659);
  assert.equal(bucketOf('fraud-scoring', '42'), 8086);
  assert.equal(bucketOf('weather', 'José'), 634);
  // What a targeting rule's percent uses: bucketOf(`${deployment}:rule:${name}`, key).
  assert.equal(bucketOf('weather:rule:vip', 'user-1'), 2041);
});

test('the deployment name changes the bucket, so a user is not in every canary at once', () => {
  let same = 0;
  for (let i = 0; i < 1000; i++) if (bucketOf('a', `user-${i}`) === bucketOf('b', `user-${i}`)) same++;
  assert.ok(same < 10, `${same} of 1000 keys share a bucket across deployments`);
});

/** A second, independent MurmurHash3 x86_32 (Math.imul, Buffer for UTF-8) to check murmur3 on random text. */
function reference(text: string): number {
  const data = Buffer.from(text, 'utf8');
  const c1 = 0xcc9e2d51;
  const c2 = 0x1b873593;
  let h = 0;
  const n = data.length & ~3;
  for (let i = 0; i < n; i += 4) {
    let k = data.readUInt32LE(i);
    k = Math.imul(k, c1);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, c2);
    h ^= k;
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  let k = 0;
  for (let i = data.length - 1; i >= n; i--) k = (k << 8) | (data[i] as number);
  if (data.length > n) {
    k = Math.imul(k, c1);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, c2);
    h ^= k;
  }
  h ^= data.length;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

test('murmur3 agrees with an independent implementation on random text of every length, ASCII or not', () => {
  assert.equal(reference('hello'), 0x248bfa47);
  const random = mulberry32(7);
  const alphabet = ['a', 'Z', '0', ':', '-', 'é', 'ß', '東', '京', '🚀', '\u0000', '\uffff'];
  for (let i = 0; i < 3000; i++) {
    // Up to 1 500 characters: beyond the reused buffer's 1 024, so the fallback path is checked too.
    const length = i < 2900 ? Math.floor(random() * 40) : 1000 + Math.floor(random() * 500);
    let text = '';
    for (let j = 0; j < length; j++) text += alphabet[Math.floor(random() * alphabet.length)];
    assert.equal(murmur3(text), reference(text), JSON.stringify(text));
  }
});

test('murmur3 of a lone surrogate hashes its UTF-8 replacement character, like Buffer does', () => {
  assert.equal(murmur3('\ud800'), reference('\ud800'));
  assert.equal(murmur3('\ud800'), murmur3('\ufffd'));
});
