import {
  createCipheriv,
  createDecipheriv,
  createHash,
  createHmac,
  hkdfSync,
  randomBytes,
  timingSafeEqual,
} from "node:crypto";

/** SHA-256 in hex: how high-entropy secrets (client secrets, refresh and reset tokens) are stored. */
export function sha256Hex(value: string): string {
  return createHash("sha256").update(value).digest("hex");
}

/** Constant-time comparison of two equal-length hex digests. */
export function digestsEqual(a: string, b: string): boolean {
  const left = Buffer.from(a, "hex");
  const right = Buffer.from(b, "hex");
  return left.length === right.length && left.length > 0 && timingSafeEqual(left, right);
}

/** A URL-safe random token with `bytes` bytes of entropy from the CSPRNG. */
export function randomToken(bytes = 32): string {
  return randomBytes(bytes).toString("base64url");
}

const ENVELOPE_VERSION = "v1";

/**
 * Encrypts and authenticates data at rest under keys derived from the master key.
 * Each purpose gets its own derived key (HKDF), so a key used to encrypt TOTP secrets is never the one
 * that hashes phone numbers.
 */
const MAX_CACHED_HMAC_KEYS = 64;

export class MasterKey {
  readonly #ikm: Buffer;
  /** Derived HMAC keys by purpose: a handful of fixed purposes, each derived once (HKDF is the cost of a hash). */
  readonly #hmacKeys = new Map<string, Buffer>();

  constructor(masterKey: Buffer) {
    if (masterKey.length !== 32) throw new Error("the master key must be 32 bytes");
    this.#ikm = masterKey;
  }

  static fromBase64(value: string): MasterKey {
    return new MasterKey(Buffer.from(value, "base64"));
  }

  #derive(purpose: string): Buffer {
    return Buffer.from(hkdfSync("sha256", this.#ikm, Buffer.alloc(0), `ipaas:${purpose}`, 32));
  }

  /** AES-256-GCM; `purpose` is bound as associated data, so a ciphertext cannot be replayed elsewhere. */
  encrypt(plaintext: string, purpose: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv("aes-256-gcm", this.#derive(`enc:${purpose}`), iv);
    cipher.setAAD(Buffer.from(purpose));
    const body = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
    return [
      ENVELOPE_VERSION,
      iv.toString("base64url"),
      body.toString("base64url"),
      cipher.getAuthTag().toString("base64url"),
    ].join(".");
  }

  decrypt(envelope: string, purpose: string): string {
    const [version, iv, body, tag] = envelope.split(".");
    if (version !== ENVELOPE_VERSION || !iv || body === undefined || !tag) throw new Error("not an encrypted value");
    const decipher = createDecipheriv("aes-256-gcm", this.#derive(`enc:${purpose}`), Buffer.from(iv, "base64url"));
    decipher.setAAD(Buffer.from(purpose));
    decipher.setAuthTag(Buffer.from(tag, "base64url"));
    return Buffer.concat([decipher.update(Buffer.from(body, "base64url")), decipher.final()]).toString("utf8");
  }

  /** A keyed hash (HMAC-SHA256, hex) for looking up a value without storing it in the clear. */
  lookupHash(value: string, purpose: string): string {
    let key = this.#hmacKeys.get(purpose);
    if (!key) {
      key = this.#derive(`hmac:${purpose}`);
      // Purposes are constants; the bound only guards against a caller putting data in one.
      if (this.#hmacKeys.size < MAX_CACHED_HMAC_KEYS) this.#hmacKeys.set(purpose, key);
    }
    return createHmac("sha256", key).update(value).digest("hex");
  }
}
