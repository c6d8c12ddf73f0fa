import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from "node:crypto";
import type { Db } from "@ipaas/db";
import { exportJWK, type JWK } from "jose";
import type { MasterKey } from "../crypto";
import { newId } from "../ids";

export interface SigningKeyPolicy {
  /** A new key is made when the signing key is this old. */
  rotationDays: number;
  /** A new key is published this long before it starts signing, so every verifier has it first. */
  publishLeadSeconds: number;
  /** The longest lifetime of any token this service signs: a retired key stays published that long. */
  maxTokenTtlSeconds: number;
}

export interface LoadedKey {
  kid: string;
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

const ALGORITHM = "EdDSA";
const DAY_MS = 86_400_000;

/**
 * The Ed25519 keys one service signs with. Keys live in the database (the private half encrypted under
 * the master key), so every instance of a service signs with, and publishes, the same set.
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

  /** Loads the keys, making the first one or a scheduled successor when due. Safe for instances racing. */
  async init(): Promise<void> {
    await this.#withLock(async (tx) => {
      const keys = await this.#load(tx);
      const now = this.clock();
      const signing = pickSigning(keys, now);
      if (!signing) {
        await this.#create(tx, new Date(now));
        return;
      }
      const pending = keys.some((k) => k.activatesAt.getTime() > now);
      if (!pending && now - signing.activatesAt.getTime() >= this.policy.rotationDays * DAY_MS) {
        await this.#schedule(tx, signing, now);
      }
    });
    await this.reload();
  }

  /**
   * Publishes a new key now and lets it sign after the publish lead; the current key retires then and
   * stays verifiable until its last token expires. `leadSeconds` overrides the policy (tests, emergencies).
   */
  async rotate(leadSeconds = this.policy.publishLeadSeconds): Promise<string> {
    const kid = await this.#withLock(async (tx) => {
      const keys = await this.#load(tx);
      const now = this.clock();
      const signing = pickSigning(keys, now);
      if (!signing) return this.#create(tx, new Date(now));
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

  /** The key that signs now. */
  signingKey(): LoadedKey {
    const key = pickSigning(this.#keys, this.clock());
    if (!key) throw new Error(`${this.service} has no signing key; was init() called?`);
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
    const kid = await this.#create(tx, activatesAt);
    await tx.signingKey.update({
      where: { id: signing.kid },
      data: {
        retiresAt: activatesAt,
        expiresAt: new Date(activatesAt.getTime() + this.policy.maxTokenTtlSeconds * 1000),
      },
    });
    return kid;
  }

  async #create(tx: KeyTx, activatesAt: Date): Promise<string> {
    const kid = newId("key");
    const { publicKey, privateKey } = generateKeyPairSync("ed25519");
    const jwk = { ...(await exportJWK(publicKey)), kid, alg: ALGORITHM, use: "sig" };
    const pem = privateKey.export({ type: "pkcs8", format: "pem" }).toString();
    await tx.signingKey.create({
      data: {
        id: kid,
        service: this.service,
        algorithm: ALGORITHM,
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
      return {
        kid: row.id,
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
