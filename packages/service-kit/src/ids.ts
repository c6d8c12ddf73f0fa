import { randomBytes } from "node:crypto";

const ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";

/** Known id prefixes; one per kind of record so an id says what it names. */
export type IdPrefix =
  | "main"
  | "bnk"
  | "org"
  | "usr"
  | "rol"
  | "mod"
  | "perm"
  | "cred"
  | "ses"
  | "rft"
  | "totp"
  | "rcv"
  | "pwr"
  | "key"
  | "aud"
  | "evt"
  | "eu"
  | "sub"
  | "otp"
  | "jti"
  | "req";

function base58(bytes: Uint8Array): string {
  let value = 0n;
  for (const b of bytes) value = (value << 8n) | BigInt(b);
  let out = "";
  while (value > 0n) {
    out = ALPHABET[Number(value % 58n)] + out;
    value /= 58n;
  }
  return out.padStart(22, ALPHABET[0]);
}

/**
 * An opaque, prefixed id: 48 bits of milliseconds (so ids sort by creation and index well)
 * followed by 80 random bits, base58-encoded. Never sequential, never guessable.
 */
export function newId(prefix: IdPrefix): string {
  const bytes = new Uint8Array(16);
  const now = BigInt(Date.now());
  for (let i = 0; i < 6; i++) bytes[i] = Number((now >> BigInt(8 * (5 - i))) & 0xffn);
  bytes.set(randomBytes(10), 6);
  return `${prefix}_${base58(bytes)}`;
}
