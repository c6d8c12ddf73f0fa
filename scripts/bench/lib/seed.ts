// What the scenarios need in the database and in hand: an organization (client credentials), tokens of
// every kind the introspection mix uses, dashboard users with TOTP set up, one-time-code requests and end
// users.
import { createHmac, randomBytes } from "node:crypto";
import type { Db } from "../../../packages/db/src/client";
import { newId } from "../../../packages/domain/src/ids";
import { MasterKey } from "../../../packages/service-kit/src/crypto";
import { newId as newKitId } from "../../../packages/service-kit/src/ids";
import { SigningKeyStore } from "../../../packages/service-kit/src/keys/signing-keys";
import { createPasswords, passwordPepper } from "../../../services/dashboard-auth/src/features/passwords/passwords";
import { createSigner } from "../deps";

export const PASSWORD = "correct horse battery staple";

export function basicAuth(clientKey: string, clientSecret: string): string {
  // RFC 6749 §2.3.1: each part form-urlencoded before Basic encoding (both are URL-safe already).
  const encode = (s: string) => encodeURIComponent(s).replaceAll("%20", "+");
  return `Basic ${Buffer.from(`${encode(clientKey)}:${encode(clientSecret)}`).toString("base64")}`;
}

/** Asks api-auth for a client credentials token over HTTP, as a partner would. */
export async function obtainToken(apiUrl: string, authorization: string): Promise<string> {
  const res = await fetch(`${apiUrl}/v1/auth/token`, {
    method: "POST",
    headers: { authorization, "content-type": "application/x-www-form-urlencoded" },
    body: "grant_type=client_credentials",
  });
  const body = (await res.json()) as { access_token?: string };
  if (res.status !== 200 || body.access_token === undefined) {
    throw new Error(`token request failed: ${res.status} ${JSON.stringify(body)}`);
  }
  return body.access_token;
}

export async function revokeToken(apiUrl: string, authorization: string, token: string): Promise<void> {
  const res = await fetch(`${apiUrl}/v1/auth/revoke`, {
    method: "POST",
    headers: { authorization, "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ token }).toString(),
  });
  if (res.status !== 200) throw new Error(`revocation failed: ${res.status} ${await res.text()}`);
}

export async function introspect(apiUrl: string, authorization: string, token: string): Promise<boolean> {
  const res = await fetch(`${apiUrl}/v1/auth/introspect`, {
    method: "POST",
    headers: { authorization, "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ token }).toString(),
  });
  const body = (await res.json()) as { active?: boolean };
  if (res.status !== 200) throw new Error(`introspection failed: ${res.status} ${JSON.stringify(body)}`);
  return body.active === true;
}

/** The same token with one character of its signature changed: well-formed, wrongly signed. */
export function withBadSignature(token: string): string {
  const at = token.lastIndexOf(".") + 10;
  const flipped = token[at] === "A" ? "B" : "A";
  return `${token.slice(0, at)}${flipped}${token.slice(at + 1)}`;
}

/**
 * A partner access token that expired an hour ago, signed with api-auth's own current key (read from the
 * database and decrypted with the master key, as an api-auth instance does). The service cannot be asked for
 * one: its shortest token lifetime is a minute.
 */
export async function expiredServiceToken(
  db: Db,
  masterKey: Buffer,
  claims: { issuer: string; audience: string; organizationId: string; clientKey: string },
): Promise<string> {
  const store = new SigningKeyStore(db, new MasterKey(masterKey), "api-auth", {
    rotationDays: 30,
    publishLeadSeconds: 3600,
    maxTokenTtlSeconds: 3600,
  });
  await store.reload();
  const key = store.signingKey();
  const sign = createSigner({
    key: key.privateKeyPem,
    algorithm: "EdDSA",
    kid: key.kid,
    header: { alg: "EdDSA", typ: "at+jwt" },
  }) as (payload: Record<string, unknown>) => string;
  const now = Math.floor(Date.now() / 1000);
  return sign({
    client_id: claims.clientKey,
    scope: "read_bills read_packs",
    iss: claims.issuer,
    sub: claims.organizationId,
    aud: claims.audience,
    iat: now - 7200,
    exp: now - 3600,
    jti: newKitId("jti"),
  });
}

const BASE32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

function base32(bytes: Buffer): string {
  let bits = "";
  for (const b of bytes) bits += b.toString(2).padStart(8, "0");
  let out = "";
  for (let i = 0; i + 5 <= bits.length; i += 5) out += BASE32[Number.parseInt(bits.slice(i, i + 5), 2)];
  return out;
}

/** RFC 6238 TOTP (SHA-1, 6 digits, 30 s) over the raw secret bytes. */
export function totp(secret: Buffer, atMs = Date.now()): string {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(atMs / 1000 / 30)));
  const mac = createHmac("sha1", secret).update(counter).digest();
  const offset = (mac[mac.length - 1] ?? 0) & 0x0f;
  return String((mac.readUInt32BE(offset) & 0x7fffffff) % 1_000_000).padStart(6, "0");
}

export interface LoginUser {
  email: string;
  secret: Buffer;
}

/**
 * Dashboard users of one organization with TOTP already confirmed, written straight to the database (the
 * set-up flow is not what is measured). All share one hash made as dashboard-auth makes it (argon2id with its
 * parameters and its pepper, so no login replaces it): verification cost depends on the parameters in the
 * hash, not on the password.
 */
export async function createLoginUsers(
  db: Db,
  masterKey: Buffer,
  organizationId: string,
  count: number,
): Promise<LoginUser[]> {
  const key = new MasterKey(masterKey);
  const passwordHash = await (await createPasswords({ pepper: passwordPepper(key) })).hash(PASSWORD);
  const roleId = newId("rol");
  await db.role.create({ data: { id: roleId, tenantId: organizationId, name: "Bench user", rank: 200 } });
  const run = randomBytes(4).toString("hex");
  const users = Array.from({ length: count }, (_, i) => ({
    id: newId("usr"),
    email: `bench.${run}.${i}@example.test`,
    secret: randomBytes(20),
  }));
  for (let i = 0; i < users.length; i += 500) {
    const batch = users.slice(i, i + 500);
    await db.user.createMany({
      data: batch.map((u) => ({
        id: u.id,
        tenantId: organizationId,
        email: u.email,
        name: "Bench",
        passwordHash,
        roleId,
      })),
    });
    await db.totpEnrolment.createMany({
      data: batch.map((u) => ({
        id: newId("totp"),
        userId: u.id,
        secretEncrypted: key.encrypt(base32(u.secret), `totp:${u.id}`),
        confirmedAt: new Date(),
      })),
    });
  }
  return users.map((u) => ({ email: u.email, secret: u.secret }));
}

/** The code of every seeded one-time-code request. */
export const OTP_CODE = "246810";

/**
 * One-time-code requests of one organization, each to its own email address, written straight to the
 * database with the code `OTP_CODE` kept as api-auth keeps it (an HMAC under the master key, bound to the
 * request): a verification of each is a person's first sign-in. Sending is not what is measured here.
 */
export async function createOtpRequests(
  db: Db,
  masterKey: Buffer,
  organizationId: string,
  count: number,
): Promise<string[]> {
  const key = new MasterKey(masterKey);
  const ids: string[] = [];
  const expiresAt = new Date(Date.now() + 600_000);
  for (let start = 0; start < count; start += 1000) {
    const rows = Array.from({ length: Math.min(1000, count - start) }, (_, i) => {
      const row = otpRequestRow(
        key,
        organizationId,
        start + i,
        `bench.${start + i}.${randomBytes(3).toString("hex")}@example.test`,
        expiresAt,
      );
      ids.push(row.id);
      return row;
    });
    await db.otpChallenge.createMany({ data: rows });
  }
  return ids;
}

/**
 * People who already have an end-user account at the organization, one per email address: a request with
 * the code `OTP_CODE` is seeded for each address, dated two hours back, and verified over HTTP with the
 * organization's partner token (`bearer`, scope otp), which creates the person and their userId. Dated
 * so, the requests fall outside the hour the per-destination send limits count: a code may be sent to each
 * address at once. Returns the addresses.
 */
export async function createKnownPersons(
  db: Db,
  masterKey: Buffer,
  organizationId: string,
  apiUrl: string,
  bearer: string,
  count: number,
): Promise<string[]> {
  const key = new MasterKey(masterKey);
  const run = randomBytes(4).toString("hex");
  const emails = Array.from({ length: count }, (_, i) => `known.${run}.${i}@example.test`);
  const createdAt = new Date(Date.now() - 2 * 3_600_000);
  const expiresAt = new Date(Date.now() + 600_000);
  const rows = emails.map((email, i) => ({ ...otpRequestRow(key, organizationId, i, email, expiresAt), createdAt }));
  await db.otpChallenge.createMany({ data: rows });
  for (const row of rows) {
    const res = await fetch(`${apiUrl}/v1/otp/verify`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${bearer}` },
      body: JSON.stringify({ requestId: row.id, code: OTP_CODE }),
    });
    const body = (await res.json()) as { isNewUser?: boolean };
    if (res.status !== 200 || body.isNewUser !== true) {
      throw new Error(`a known person's first sign-in failed: ${res.status} ${JSON.stringify(body)}`);
    }
  }
  return emails;
}

/**
 * One sign-in request to an email address, already sent, with the code `OTP_CODE` kept as api-auth keeps it
 * and the person it creates on a first verification; its ids carry `index` and random bytes.
 */
function otpRequestRow(key: MasterKey, organizationId: string, index: number, email: string, expiresAt: Date) {
  const id = `otp_bench${index.toString(36).padStart(6, "0")}${randomBytes(4).toString("hex")}`;
  const newEndUserId = `eu_bench${index.toString(36)}${randomBytes(4).toString("hex")}`;
  return {
    id,
    tenantId: organizationId,
    channel: "EMAIL" as const,
    destinationHash: key.lookupHash(email, "end-user-email"),
    destinationEncrypted: key.encrypt(email, `otp-destination:${id}`),
    codeHash: key.lookupHash(`${id}:${OTP_CODE}`, "otp-code"),
    deliveryStatus: "SENT" as const,
    expiresAt,
    newEndUserId,
    newEndUserEncrypted: key.encrypt(email, `end-user-email:${newEndUserId}`),
  };
}
