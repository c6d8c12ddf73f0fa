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

const MAX_CACHED_HMAC_KEYS = 64;

/** Envelopes name the key that sealed them (`v2.<key id>.…`); `v1` ones, from before key ids, do not. */
const ENVELOPE_VERSION = "v2";
const LEGACY_ENVELOPE_VERSION = "v1";

export interface MasterKeyRing {
  /** Master keys replaced by the current one: they decrypt, never encrypt. */
  previous?: readonly Buffer[];
  /** The key look-up hashes are made with; the current master key unless set. */
  indexKey?: Buffer;
}

function checkedKey(key: Buffer, name: string): Buffer {
  if (key.length !== 32) throw new Error(`the ${name} must be 32 bytes`);
  return key;
}

function derive(ikm: Buffer, purpose: string): Buffer {
  return Buffer.from(hkdfSync("sha256", ikm, Buffer.alloc(0), `ipaas:${purpose}`, 32));
}

/** A master key's public name: 8 characters derived from it, which tell nothing about it. */
function keyIdOf(ikm: Buffer): string {
  return derive(ikm, "key-id").subarray(0, 6).toString("base64url");
}

/**
 * Encrypts and authenticates data at rest under keys derived from the master key.
 * Each purpose gets its own derived key (HKDF), so a key used to encrypt TOTP secrets is never the one
 * that hashes phone numbers.
 *
 * Rotation: every ciphertext names its master key by id, so a new `MASTER_KEY` encrypts from then on while
 * the replaced ones (`previous`) still decrypt what they sealed; a value is re-sealed under the new key
 * whenever it is written again. Look-up hashes cannot be re-computed from themselves, so they stay under
 * one index key (`indexKey`; the master key unless set), which a rotation keeps.
 */
export class MasterKey {
  readonly #ikm: Buffer;
  readonly #keyId: string;
  /** Every master key that may have sealed a stored value, by id: the current one and the previous ones. */
  readonly #byId: Map<string, Buffer>;
  readonly #indexIkm: Buffer;
  /** Derived HMAC keys by purpose: a handful of fixed purposes, each derived once (HKDF is the cost of a hash). */
  readonly #hmacKeys = new Map<string, Buffer>();

  constructor(masterKey: Buffer, ring: MasterKeyRing = {}) {
    this.#ikm = checkedKey(masterKey, "master key");
    this.#keyId = keyIdOf(masterKey);
    const previous = (ring.previous ?? []).map((key) => checkedKey(key, "previous master key"));
    this.#byId = new Map([masterKey, ...previous].map((key) => [keyIdOf(key), key]));
    this.#indexIkm = ring.indexKey ? checkedKey(ring.indexKey, "index key") : masterKey;
  }

  static fromBase64(value: string): MasterKey {
    return new MasterKey(Buffer.from(value, "base64"));
  }

  /** The id the current master key's ciphertexts carry. */
  get keyId(): string {
    return this.#keyId;
  }

  /**
   * AES-256-GCM under the current master key; `purpose` is bound as associated data, so a ciphertext cannot
   * be replayed elsewhere. The envelope is `v2.<key id>.<iv>.<ciphertext>.<tag>`.
   */
  encrypt(plaintext: string, purpose: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv("aes-256-gcm", derive(this.#ikm, `enc:${purpose}`), iv);
    cipher.setAAD(Buffer.from(purpose));
    const body = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
    return [
      ENVELOPE_VERSION,
      this.#keyId,
      iv.toString("base64url"),
      body.toString("base64url"),
      cipher.getAuthTag().toString("base64url"),
    ].join(".");
  }

  /** Opens an envelope sealed by the current master key or a previous one; throws for anything else. */
  decrypt(envelope: string, purpose: string): string {
    const parts = envelope.split(".");
    if (parts[0] === LEGACY_ENVELOPE_VERSION && parts.length === 4) {
      // Sealed before envelopes named their key: by the oldest key that could have, tried in turn.
      const [, iv, body, tag] = parts as [string, string, string, string];
      for (const key of [...this.#byId.values()].reverse()) {
        const opened = open(key, purpose, iv, body, tag);
        if (opened !== null) return opened;
      }
      throw new Error("not an encrypted value of these keys");
    }
    const [version, keyId, iv, body, tag] = parts;
    const key = keyId === undefined ? undefined : this.#byId.get(keyId);
    if (version !== ENVELOPE_VERSION || !key || !iv || body === undefined || !tag || parts.length !== 5)
      throw new Error("not an encrypted value of these keys");
    const opened = open(key, purpose, iv, body, tag);
    if (opened === null) throw new Error("the encrypted value does not authenticate");
    return opened;
  }

  /** A keyed hash (HMAC-SHA256, hex) for looking up a value without storing it in the clear. */
  lookupHash(value: string, purpose: string): string {
    let key = this.#hmacKeys.get(purpose);
    if (!key) {
      key = derive(this.#indexIkm, `hmac:${purpose}`);
      // Purposes are constants; the bound only guards against a caller putting data in one.
      if (this.#hmacKeys.size < MAX_CACHED_HMAC_KEYS) this.#hmacKeys.set(purpose, key);
    }
    return createHmac("sha256", key).update(value).digest("hex");
  }
}

/** AES-256-GCM decryption; null when the tag does not authenticate under `key`. */
function open(key: Buffer, purpose: string, iv: string, body: string, tag: string): string | null {
  try {
    const decipher = createDecipheriv("aes-256-gcm", derive(key, `enc:${purpose}`), Buffer.from(iv, "base64url"));
    decipher.setAAD(Buffer.from(purpose));
    decipher.setAuthTag(Buffer.from(tag, "base64url"));
    return Buffer.concat([decipher.update(Buffer.from(body, "base64url")), decipher.final()]).toString("utf8");
  } catch {
    return null;
  }
}

/** The master key ring a service's configuration describes. */
export function masterKeyOf(config: {
  MASTER_KEY: Buffer;
  MASTER_KEY_PREVIOUS: Buffer[];
  INDEX_KEY: Buffer | undefined;
}) {
  return new MasterKey(config.MASTER_KEY, {
    previous: config.MASTER_KEY_PREVIOUS,
    ...(config.INDEX_KEY ? { indexKey: config.INDEX_KEY } : {}),
  });
}
