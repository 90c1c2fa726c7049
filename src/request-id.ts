// Request ids: UUIDv7 (RFC 9562), time-ordered so the prediction log's key takes appends, not random inserts.
//
// The uuid package's v7 refills a 256-byte random pool every 16 ids, and on this machine a randomFillSync call
// costs ~5.5 µs whatever its size up to 4 KiB (the syscall, not the bytes): ~0.4 µs an id on average, and the
// whole refill lands on one request. Here one refill of 4 KiB serves 409 ids (10 random bytes each), and the
// hex is written from a table. Monotonic within a process: inside one millisecond, a 12-bit counter in
// rand_a (RFC 9562 §6.2, method 1) orders ids; when it runs out the timestamp moves on a millisecond early.
import { randomFillSync } from 'node:crypto';

const POOL = new Uint8Array(4096);
const PER_ID = 10;
let offset = POOL.length;

const HEX: string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

let lastMs = -1;
let seq = 0;

export function requestId(now = Date.now()): string {
  if (offset + PER_ID > POOL.length) {
    randomFillSync(POOL);
    offset = 0;
  }
  const o = offset;
  offset += PER_ID;
  let ms = now;
  if (ms > lastMs) {
    lastMs = ms;
    // Start each millisecond at a random point in the lower half, so the counter has room to grow.
    seq = ((POOL[o]! << 8) | POOL[o + 1]!) & 0x7ff;
  } else {
    seq++;
    if (seq > 0xfff) {
      lastMs++;
      seq = 0;
    }
    ms = lastMs;
  }
  const hi = Math.floor(ms / 0x1000000); // the top 24 of 48 bits
  const lo = ms % 0x1000000;
  const p = POOL;
  return (
    HEX[(hi >>> 16) & 0xff]! + HEX[(hi >>> 8) & 0xff]! + HEX[hi & 0xff]! + HEX[(lo >>> 16) & 0xff]! + '-' +
    HEX[(lo >>> 8) & 0xff]! + HEX[lo & 0xff]! + '-' +
    HEX[0x70 | (seq >>> 8)]! + HEX[seq & 0xff]! + '-' +
    HEX[0x80 | (p[o + 2]! & 0x3f)]! + HEX[p[o + 3]!]! + '-' +
    HEX[p[o + 4]!]! + HEX[p[o + 5]!]! + HEX[p[o + 6]!]! + HEX[p[o + 7]!]! + HEX[p[o + 8]!]! + HEX[p[o + 9]!]!
  );
}
