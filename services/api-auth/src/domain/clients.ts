import { clientSecretMatches, type OtpSettings } from "@ipaas/domain";
import type { SigningAlgorithm } from "@ipaas/service-kit";

/**
 * What api-auth knows about an organization's client: its credential and the organization's state, read
 * together in one query and kept in the client cache. Holds hashes only, never a secret.
 */
export interface ClientRecord {
  organizationId: string;
  clientKey: string;
  secretHash: string;
  /** The secret replaced by the last rotation, honoured until `previousSecretExpiresAt`. */
  previousSecretHash: string | null;
  previousSecretExpiresAt: Date | null;
  /** OrganizationCredential.version: bumped by every rotation. */
  version: number;
  /** Tenant.version: bumped by every change to status, scopes or name. */
  organizationVersion: number;
  scopes: readonly string[];
  /** PENDING: registered by itself and not yet approved by its bank or the platform owner. */
  status: "ACTIVE" | "SUSPENDED" | "PENDING";
  deleted: boolean;
  /** Tokens issued before this instant are inactive. */
  tokensNotBefore: Date | null;
  /** The organization's one-time-code settings (a change bumps `organizationVersion`, so events refresh it). */
  otp: OtpSettings;
  /** The algorithm the organization's tokens are signed with. */
  signingAlg: SigningAlgorithm;
}

/** A SHA-256 hex digest that no secret is known to produce, compared against when the client is unknown. */
const DECOY_HASH = "0".repeat(64);

/**
 * Whether `secret` is the client's current secret, or its previous one while the rotation's grace period
 * lasts. Both comparisons are constant-time; an unknown client costs the same comparison and fails.
 */
export function secretAccepted(client: ClientRecord | null, secret: string, now: number): boolean {
  if (client === null) {
    clientSecretMatches(secret, DECOY_HASH);
    return false;
  }
  if (clientSecretMatches(secret, client.secretHash)) return true;
  const graceEnds = client.previousSecretExpiresAt?.getTime();
  return (
    client.previousSecretHash !== null &&
    graceEnds !== undefined &&
    graceEnds > now &&
    clientSecretMatches(secret, client.previousSecretHash)
  );
}

/** A pending, suspended or deleted organization gets no new tokens and none of its tokens is active. */
export function organizationInGoodStanding(client: ClientRecord): boolean {
  return client.status === "ACTIVE" && !client.deleted;
}
