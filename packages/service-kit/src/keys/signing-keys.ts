import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from "node:crypto";
import type { Db } from "@ipaas/db";
import { exportJWK, type JWK } from "jose";
import type { MasterKey } from "../crypto";
import { newId } from "../ids";

/**
 * The JWS algorithms a service may sign with: Ed25519 by default; RSA (RFC 9068 §2.1 names RS256 as the one
 * every conforming resource server supports) and P-256 for partners whose libraries lack EdDSA.
 */
export const SIGNING_ALGORITHMS = ["EdDSA", "RS256", "ES256"] as const;
export type SigningAlgorithm = (typeof SIGNING_ALGORITHMS)[number];

export function isSigningAlgorithm(value: unknown): value is SigningAlgorithm {
  return (SIGNING_ALGORITHMS as readonly unknown[]).includes(value);
}

export interface SigningKeyPolicy {
  /** A new key is made when the signing key is this old. */
  rotationDays: number;
  /** A new key is published this long before it starts signing, so every verifier has it first. */
  publishLeadSeconds: number;
  /** The longest lifetime of any token this service signs: a retired key stays published that long. */
  maxTokenTtlSeconds: number;
  /** The algorithms it keeps a signing key for (EdDSA unless set); each rotates on its own. */
  algorithms?: readonly SigningAlgorithm[];
}

export interface LoadedKey {
  kid: string;
  alg: SigningAlgorithm;
  publicJwk: JWK;
  publicKey: KeyObject;
  privateKey: KeyObject;
  /** PEM forms, which the JWT library takes (it converts them once per signer/verifier). */
  publicKeyPem: string;
  privateKeyPem: string;
  activatesAt: Date;
  retiresAt: Date | null;
  expiresAt: Date | null;
  createdAt: Date;
}

const DAY_MS = 86_400_000;

/** A new key pair for an algorithm. */
function generateFor(alg: SigningAlgorithm) {
  switch (alg) {
    case "EdDSA":
      return generateKeyPairSync("ed25519");
    case "RS256":
      return generateKeyPairSync("rsa", { modulusLength: 2048 });
    case "ES256":
      return generateKeyPairSync("ec", { namedCurve: "P-256" });
  }
}

/**
 * The keys one service signs with, one line of keys per algorithm it uses. Keys live in the database (the
 * private half encrypted under the master key), so every instance of a service signs with, and publishes,
 * the same set.
 *
 * Lifecycle: created → published (JWKS) → signs from `activatesAt` → stops signing at `retiresAt` →
 * leaves the JWKS at `expiresAt`, once every token it signed has expired.
 */
export class SigningKeyStore {
  #keys: LoadedKey[] = [];
  #lastReloadAt = 0;

  constructor(
    private readonly db: Db,
    private readonly masterKey: MasterKey,
    readonly service: string,
    private readonly policy: SigningKeyPolicy,
    private readonly clock: () => number = Date.now,
  ) {}

  get algorithms(): readonly SigningAlgorithm[] {
    return this.policy.algorithms ?? ["EdDSA"];
  }

  /**
   * Loads the keys, making each algorithm's first one or a scheduled successor when due. Safe for
   * instances racing.
   */
  async init(): Promise<void> {
    await this.#withLock(async (tx) => {
      const all = await this.#load(tx);
      const now = this.clock();
      for (const alg of this.algorithms) {
        const keys = all.filter((k) => k.alg === alg);
        const signing = pickSigning(keys, now);
        if (!signing) {
          await this.#create(tx, new Date(now), alg);
          continue;
        }
        const pending = keys.some((k) => k.activatesAt.getTime() > now);
        if (!pending && now - signing.activatesAt.getTime() >= this.policy.rotationDays * DAY_MS) {
          await this.#schedule(tx, signing, now);
        }
      }
    });
    await this.reload();
  }

  /**
   * Publishes a new key now and lets it sign after the publish lead; the current key retires then and
   * stays verifiable until its last token expires. `leadSeconds` overrides the policy (tests, emergencies).
   */
  async rotate(leadSeconds = this.policy.publishLeadSeconds, alg: SigningAlgorithm = "EdDSA"): Promise<string> {
    const kid = await this.#withLock(async (tx) => {
      const keys = (await this.#load(tx)).filter((k) => k.alg === alg);
      const now = this.clock();
      const signing = pickSigning(keys, now);
      if (!signing) return this.#create(tx, new Date(now), alg);
      return this.#schedule(tx, signing, now, leadSeconds);
    });
    await this.reload();
    return kid;
  }

  /**
   * The longest lifetime of any token this service signs. The token service refuses to sign or accept a
   * longer one, so no token it honours can outlive its key's place in the JWKS.
   */
  get maxTokenTtlSeconds(): number {
    return this.policy.maxTokenTtlSeconds;
  }

  /** Re-reads the keys (other instances may have rotated). */
  async reload(): Promise<void> {
    this.#keys = await this.#load(this.db);
    this.#lastReloadAt = this.clock();
  }

  /** The key that signs now with `alg`. */
  signingKey(alg: SigningAlgorithm = "EdDSA"): LoadedKey {
    const key = pickSigning(
      this.#keys.filter((k) => k.alg === alg),
      this.clock(),
    );
    if (!key) throw new Error(`${this.service} has no ${alg} signing key; was init() called with it?`);
    return key;
  }

  /** A published key by id, for verification. Unknown ids trigger at most one reload per 5 s. */
  async verificationKey(kid: string): Promise<LoadedKey | undefined> {
    const now = this.clock();
    let key = this.#keys.find((k) => k.kid === kid && isPublished(k, now));
    if (!key && now - this.#lastReloadAt > 5_000) {
      await this.reload();
      key = this.#keys.find((k) => k.kid === kid && isPublished(k, now));
    }
    return key;
  }

  /** The public JWK Set: every key that is published and not yet expired. */
  jwks(): { keys: JWK[] } {
    const now = this.clock();
    return { keys: this.#keys.filter((k) => isPublished(k, now)).map((k) => k.publicJwk) };
  }

  async #schedule(tx: KeyTx, signing: LoadedKey, now: number, leadSeconds = this.policy.publishLeadSeconds) {
    const activatesAt = new Date(now + leadSeconds * 1000);
    const kid = await this.#create(tx, activatesAt, signing.alg);
    await tx.signingKey.update({
      where: { id: signing.kid },
      data: {
        retiresAt: activatesAt,
        expiresAt: new Date(activatesAt.getTime() + this.policy.maxTokenTtlSeconds * 1000),
      },
    });
    return kid;
  }

  async #create(tx: KeyTx, activatesAt: Date, alg: SigningAlgorithm): Promise<string> {
    const kid = newId("key");
    const { publicKey, privateKey } = generateFor(alg);
    const jwk = { ...(await exportJWK(publicKey)), kid, alg, use: "sig" };
    const pem = privateKey.export({ type: "pkcs8", format: "pem" }).toString();
    await tx.signingKey.create({
      data: {
        id: kid,
        service: this.service,
        algorithm: alg,
        publicJwk: jwk,
        privateKeyEncrypted: this.masterKey.encrypt(pem, `signing-key:${kid}`),
        activatesAt,
      },
    });
    return kid;
  }

  async #load(client: KeyTx): Promise<LoadedKey[]> {
    const rows = await client.signingKey.findMany({
      where: { service: this.service },
      orderBy: { activatesAt: "desc" },
    });
    return rows.map((row) => {
      let privateKeyPem: string;
      try {
        privateKeyPem = this.masterKey.decrypt(row.privateKeyEncrypted, `signing-key:${row.id}`);
      } catch {
        throw new Error(
          `signing key ${row.id} of ${this.service} cannot be decrypted: MASTER_KEY is not the key it was stored under`,
        );
      }
      const privateKey = createPrivateKey(privateKeyPem);
      const publicKey = createPublicKey(privateKey);
      if (!isSigningAlgorithm(row.algorithm)) {
        throw new Error(`signing key ${row.id} of ${this.service} has an unknown algorithm ${row.algorithm}`);
      }
      return {
        kid: row.id,
        alg: row.algorithm,
        publicJwk: row.publicJwk as JWK,
        publicKey,
        privateKey,
        publicKeyPem: publicKey.export({ type: "spki", format: "pem" }).toString(),
        privateKeyPem,
        activatesAt: row.activatesAt,
        retiresAt: row.retiresAt,
        expiresAt: row.expiresAt,
        createdAt: row.createdAt,
      };
    });
  }

  async #withLock<T>(fn: (tx: KeyTx) => Promise<T>): Promise<T> {
    return this.db.$transaction(async (tx) => {
      await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtext(${`signing-keys:${this.service}`}))`;
      return fn(tx);
    });
  }
}

type KeyTx = Pick<Db, "signingKey">;

function isPublished(key: LoadedKey, now: number): boolean {
  return key.expiresAt === null || key.expiresAt.getTime() > now;
}

/** The newest key whose signing window contains `now`. */
function pickSigning(keys: LoadedKey[], now: number): LoadedKey | undefined {
  return keys.find((k) => k.activatesAt.getTime() <= now && (k.retiresAt === null || k.retiresAt.getTime() > now));
}
