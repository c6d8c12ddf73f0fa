import { randomFillSync } from "node:crypto";

/** Crockford's base32, lower case: no i, l, o or u, and ASCII order matches numeric order. */
const ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz";

/** The prefixes of the ids this kit makes itself: signing keys, token ids and request ids. */
export type KitIdPrefix = "key" | "jti" | "req";

// Random bytes are drawn from the CSPRNG in blocks: one system call per 409 ids, not one per id.
const POOL_SIZE = 4096;
const RANDOM_BYTES = 10;
const pool = Buffer.alloc(POOL_SIZE);
let offset = POOL_SIZE;

function randomBlock(): Buffer {
  if (offset + RANDOM_BYTES > POOL_SIZE) {
    randomFillSync(pool);
    offset = 0;
  }
  const block = pool.subarray(offset, offset + RANDOM_BYTES);
  offset += RANDOM_BYTES;
  return block;
}

/**
 * An opaque, prefixed id: 48 bits of milliseconds (so ids sort by creation and index well) followed by
 * 80 random bits, as 26 base32 characters (10 for the time, 16 for the randomness). Never sequential,
 * never guessable. Plain integer arithmetic: ids are made on hot paths (request ids, token ids).
 */
export function newId(prefix: KitIdPrefix): string {
  return makeId(prefix);
}

/**
 * An id maker for a closed list of prefixes, one per kind of record, so an id says what it names and a
 * typo in a prefix does not compile. The domain defines its list (see `@ipaas/domain`).
 */
export function idMaker<P extends string>(): (prefix: P) => string {
  return makeId;
}

function makeId(prefix: string): string {
  let out = `${prefix}_`;
  // The time in 10 characters (50 bits, of which 48 are used), most significant first.
  let time = Date.now();
  const timeChars = new Array<string>(10);
  for (let i = 9; i >= 0; i--) {
    timeChars[i] = ALPHABET[time % 32] ?? "0";
    time = Math.floor(time / 32);
  }
  out += timeChars.join("");
  // The 80 random bits as two 40-bit halves (exact in a double), 8 characters each.
  const bytes = randomBlock();
  for (let half = 0; half < 2; half++) {
    let value = 0;
    for (let i = 0; i < 5; i++) value = value * 256 + (bytes[half * 5 + i] ?? 0);
    const chars = new Array<string>(8);
    for (let i = 7; i >= 0; i--) {
      chars[i] = ALPHABET[value % 32] ?? "0";
      value = Math.floor(value / 32);
    }
    out += chars.join("");
  }
  return out;
}
