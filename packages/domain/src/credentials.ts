import { randomUUID } from "node:crypto";
import { digestsEqual, randomToken, sha256Hex } from "@ipaas/service-kit";

/**
 * Organization client credentials. The key is a public identifier (a UUID, as the seed contract shows);
 * the secret is 256 bits from the CSPRNG, shown once and stored only as its SHA-256. A slow hash buys
 * nothing for a value with 256 bits of entropy, and a fast one keeps the token endpoint fast.
 */
export function newClientCredentials(): { clientKey: string; clientSecret: string; secretHash: string } {
  const clientSecret = randomToken(32);
  return { clientKey: randomUUID(), clientSecret, secretHash: hashClientSecret(clientSecret) };
}

export function newClientSecret(): { clientSecret: string; secretHash: string } {
  const clientSecret = randomToken(32);
  return { clientSecret, secretHash: hashClientSecret(clientSecret) };
}

/** What every API key starts with, so secret scanners (and people) recognise one. */
export const API_KEY_PREFIX = "ipaas_sk_";

/**
 * An organization's API key: its client key and secret in one string for the SDK,
 * `ipaas_sk_<the client key's 32 hex digits>_<the secret>`. It is the secret, so it is shown only with it.
 */
export function apiKeyOf(clientKey: string, clientSecret: string): string {
  return `${API_KEY_PREFIX}${clientKey.replaceAll("-", "").toLowerCase()}_${clientSecret}`;
}

/** The client key (a UUID) and secret an API key carries; null for anything that is not one. */
export function credentialsOfApiKey(apiKey: string): { clientKey: string; clientSecret: string } | null {
  const match = /^ipaas_sk_([0-9a-f]{32})_([A-Za-z0-9_-]{16,})$/.exec(apiKey);
  if (!match?.[1] || !match[2]) return null;
  const hex = match[1];
  const clientKey = [hex.slice(0, 8), hex.slice(8, 12), hex.slice(12, 16), hex.slice(16, 20), hex.slice(20)].join("-");
  return { clientKey, clientSecret: match[2] };
}

export function hashClientSecret(secret: string): string {
  return sha256Hex(secret);
}

/** Constant-time check of a presented secret against a stored hash. */
export function clientSecretMatches(presented: string, storedHash: string): boolean {
  return digestsEqual(hashClientSecret(presented), storedHash);
}
