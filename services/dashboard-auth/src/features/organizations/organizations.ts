import type { Db, Tx } from "@ipaas/db";
import {
  clampOtpSettings,
  newClientSecret,
  type OtpBounds,
  type OtpSettings,
  otpBoundsOf,
  otpColumnsChanged,
  otpSettingOutside,
  otpSettingsOf,
} from "@ipaas/domain";
import { appendToOutbox } from "@ipaas/events";
import { type Actor, assertReaches, isPlatformOwner, reaches } from "../../access/access";
import { fail, invalidField } from "../../errors";
import { organizationTypeLabel, statusLabel } from "../../shared/tenancy";
import { lockTenant } from "../../shared/tenants.repository";
import { auditChange, tenantRef } from "../audit/audit";
import { assertScopesWithin, scopesAllowedUnder } from "../scopes/scopes";
import { endTenantSessions } from "../sessions/repository";
import type { AccessChanges } from "../sessions/session-view";
import type { Origin } from "../sessions/sessions";
import {
  findOrganization,
  markOrganizationDeleted,
  type OrganizationRow,
  type OrganizationUpdate,
  swapClientSecret,
  updateOrganization,
} from "./repository";

/** The seed's organization fields. The client secret (and its hash) never leave the server. */
export function organizationView(org: OrganizationRow) {
  return {
    org_id: org.id,
    bank_id: org.bankId ?? "",
    company_name: org.name,
    phone: org.phone ?? "",
    gst: org.gst ?? "",
    type: organizationTypeLabel(org.organizationType) ?? "",
    status: statusLabel(org.status),
    address: null,
    client_key: org.credential?.clientKey ?? "",
    scopes: org.scopes.join(" "),
    otp: otpSettingsOf(org),
    tokenSigningAlg: org.tokenSigningAlg,
    created_at: org.createdAt.toISOString(),
    updated_at: org.updatedAt.toISOString(),
  };
}

export interface OrganizationChange {
  company_name?: string | undefined;
  scopes?: string[] | undefined;
  /** E.164, already validated. */
  phone?: string | undefined;
  status?: "Active" | "Suspended" | undefined;
  /** One-time-code settings to change; the others stay. */
  otp?: Partial<OtpSettings> | undefined;
  /** The algorithm api-auth signs the organization's partner and end-user tokens with. */
  tokenSigningAlg?: "EdDSA" | "RS256" | "ES256" | undefined;
}

/**
 * Changes what api-auth knows of an organization (name, status, scopes, phone, one-time-code settings):
 * bumps its version and writes the event that tells api-auth, in the caller's transaction.
 */
export async function changeOrganization(tx: Tx, orgId: string, data: OrganizationUpdate) {
  const updated = await updateOrganization(tx, orgId, data);
  await appendToOutbox(tx, {
    type: "organization.updated",
    data: {
      organizationId: updated.id,
      version: updated.version,
      status: updated.status,
      scopes: updated.scopes,
      name: updated.name,
      occurredAt: updated.updatedAt.toISOString(),
    },
  });
  return updated;
}

/**
 * The columns that hold a change of one-time-code settings: the change over the settings in force, which
 * must stay within the bank's bounds. The default country must be one the organization allows, when it
 * allows any: a bank's narrowing may leave none, and the organization still changes its other settings.
 */
function otpChange(
  org: { otpChannels: readonly string[]; otpSettings: unknown },
  change: Partial<OtpSettings>,
  bounds: OtpBounds | null,
) {
  const current = otpSettingsOf(org);
  const next = { ...current, ...change };
  if (next.allowedCountries.length > 0 && !next.allowedCountries.includes(next.defaultCountry)) {
    throw invalidField("otp.defaultCountry", "must be one of otp.allowedCountries");
  }
  const outside = otpSettingOutside(next, bounds);
  if (outside) throw invalidField(`otp.${outside.field}`, outside.message, "OTP_SETTINGS_NOT_ALLOWED");
  return otpColumnsChanged(current, next);
}

/** The columns that bring an organization's one-time-code settings within its bank's bounds; none when within. */
export function otpWithin(org: { otpChannels: readonly string[]; otpSettings: unknown }, bounds: OtpBounds | null) {
  const current = otpSettingsOf(org);
  return otpColumnsChanged(current, clampOtpSettings(current, bounds));
}

/** Organizations as their own users, their bank and the platform owner see and change them. */
export class Organizations {
  constructor(
    private readonly db: Db,
    /** The longest grace period a rotation may give the previous secret (CREDENTIAL_GRACE_MAX_SECONDS). */
    private readonly graceMaxSeconds: number,
    /** This instance's session view: a suspended or deleted organization's sessions leave it at once. */
    private readonly view: AccessChanges,
  ) {}

  /** Rotates the organization's client secret (see `rotateCredential`). */
  rotateCredential(actor: Actor, org: { id: string }, options: RotationOptions, origin: Origin) {
    return rotateCredential(this.db, actor, org, { ...options, graceMaxSeconds: this.graceMaxSeconds }, origin);
  }

  /** The caller's organization, or the one named by `orgId` when the caller reaches it. */
  async get(actor: Actor, orgId: string | undefined, action: "read" | "update" | "delete"): Promise<OrganizationRow> {
    const id = orgId ?? (actor.tenant.kind === "ORGANIZATION" ? actor.tenant.id : undefined);
    if (!id) {
      throw invalidField("org_id", "required for users outside an organization");
    }
    const org = await findOrganization(this.db, id);
    assertReaches(actor, org ? tenantRef(org) : null, action, "organization");
    if (!org) throw fail("NOT_FOUND", "no such organization");
    return org;
  }

  /**
   * An organization may rename itself, change its phone, drop scopes and change its one-time-code settings
   * within its bank's bounds; only the platform owner may add scopes or change its status, since an
   * organization must not widen its own API access or lift its own suspension.
   */
  async update(actor: Actor, org: OrganizationRow, change: OrganizationChange, origin: Origin): Promise<void> {
    const platformOwner = isPlatformOwner(actor);
    if (change.status && !platformOwner && statusLabel(org.status) !== change.status) {
      throw fail("FORBIDDEN", "only the platform owner may change an organization's status");
    }
    const status = change.status ? (change.status === "Active" ? "ACTIVE" : "SUSPENDED") : undefined;
    if (status) this.view.dropTenant(org.id, { changingHere: true });
    await this.db.$transaction(async (tx) => {
      // The bank's terms and the organization as they are now, held until this change commits: a bank
      // narrowing its terms meanwhile waits, then clamps what this wrote; a second change of this
      // organization waits, then starts from it.
      const bank = await lockTenant(tx, org.bankId ?? "", "share");
      const current = await lockTenant(tx, org.id, "update");
      if (change.scopes) {
        const added = change.scopes.filter((s) => !current.scopes.includes(s));
        if (added.length > 0 && !platformOwner) {
          throw fail("FORBIDDEN", `only the platform owner may add scopes (${added.join(", ")})`);
        }
        // Not even the platform owner gives an organization more than its bank allows.
        assertScopesWithin(added, await scopesAllowedUnder(tx, bank), "scopes");
      }
      // Nor one-time-code settings beyond the bank's bounds.
      const otp = change.otp && otpChange(current, change.otp, otpBoundsOf(bank));
      await changeOrganization(tx, org.id, {
        ...(change.company_name ? { name: change.company_name.trim() } : {}),
        ...(change.scopes ? { scopes: change.scopes } : {}),
        ...(change.phone ? { phone: change.phone } : {}),
        ...(status ? { status } : {}),
        ...(change.tokenSigningAlg ? { tokenSigningAlg: change.tokenSigningAlg } : {}),
        ...(otp ?? {}),
      });
      await auditChange(
        tx,
        origin,
        actor,
        "organization.updated",
        { type: "tenant", id: org.id, tenantId: org.id },
        {
          fields: Object.keys(change),
          status: change.status ?? null,
          scopes: change.scopes ?? null,
          otp: change.otp ? Object.keys(change.otp) : null,
        },
      );
    });
  }

  /**
   * Approves an organization waiting since it registered itself: its bank's users who may update
   * organizations, or the platform owner. From then on its client credentials work.
   */
  async approve(actor: Actor, orgId: string, origin: Origin): Promise<OrganizationRow> {
    const org = await findOrganization(this.db, orgId);
    const itsBank = org !== null && actor.tenant.kind === "BANK" && org.bankId === actor.tenant.id;
    if (!org || !(itsBank || reaches(actor, tenantRef(org), "update"))) throw fail("NOT_FOUND", "no such organization");
    if (!itsBank && !isPlatformOwner(actor)) {
      throw fail("FORBIDDEN", "only the organization's bank or the platform owner approves it");
    }
    if (org.status !== "PENDING") throw fail("NOT_PENDING", "this organization is not waiting for approval");
    return this.db.$transaction(async (tx) => {
      const approved = await changeOrganization(tx, org.id, { status: "ACTIVE" });
      await auditChange(tx, origin, actor, "organization.approved", { type: "tenant", id: org.id, tenantId: org.id });
      return { ...approved, credential: org.credential };
    });
  }

  /** Soft-deletes the organization; every session of its users ends at once. */
  async delete(actor: Actor, org: OrganizationRow, origin: Origin): Promise<void> {
    this.view.dropTenant(org.id, { changingHere: true });
    await this.db.$transaction(async (tx) => {
      const now = new Date();
      const deleted = await markOrganizationDeleted(tx, org.id, now);
      await appendToOutbox(tx, {
        type: "organization.deleted",
        data: { organizationId: org.id, version: deleted.version, occurredAt: now.toISOString() },
      });
      await endTenantSessions(tx, org.id, "organization_deleted", now);
      await auditChange(tx, origin, actor, "organization.deleted", { type: "tenant", id: org.id, tenantId: org.id });
    });
  }
}

export interface RotationOptions {
  /** How long the previous secret keeps working, so partners can roll their deployments. 0: not at all. */
  graceSeconds: number;
  /** Make every token issued under the old secret inactive at once (for a leaked secret). */
  revokeTokens: boolean;
}

/**
 * Replaces an organization's client secret. One statement swaps the hashes and bumps the version, so two
 * rotations racing each other serialize on the row and end with distinct versions; the event that tells
 * api-auth is written to the outbox in the same transaction.
 */
async function rotateCredential(
  db: Db,
  actor: Actor,
  org: { id: string },
  options: RotationOptions & { graceMaxSeconds: number },
  origin: Origin,
): Promise<{ clientKey: string; clientSecret: string; credentialVersion: number }> {
  // Only the organization's own head user or the platform owner: the secret is the organization's key.
  if (!isPlatformOwner(actor) && !(actor.head && actor.tenant.id === org.id)) {
    throw fail("FORBIDDEN", "only the organization's Super Admin or the platform owner rotates its secret");
  }
  if (options.graceSeconds > options.graceMaxSeconds) {
    throw invalidField("graceSeconds", `at most ${options.graceMaxSeconds}`);
  }
  const { clientSecret, secretHash } = newClientSecret();
  const now = new Date();
  const graceUntil = options.graceSeconds > 0 ? new Date(now.getTime() + options.graceSeconds * 1000) : null;
  const tokensNotBefore = options.revokeTokens ? now : null;
  return db.$transaction(async (tx) => {
    const row = await swapClientSecret(tx, org.id, { secretHash, graceUntil, tokensNotBefore, at: now });
    if (!row) throw fail("NOT_FOUND", "this organization has no client credentials");
    await appendToOutbox(tx, {
      type: "organization.credential_rotated",
      data: {
        organizationId: org.id,
        clientKey: row.clientKey,
        credentialVersion: row.version,
        previousSecretValidUntil: graceUntil?.toISOString() ?? null,
        tokensNotBefore: row.tokensNotBefore?.toISOString() ?? null,
        occurredAt: now.toISOString(),
      },
    });
    await auditChange(
      tx,
      origin,
      actor,
      "organization.credential_rotated",
      { type: "tenant", id: org.id, tenantId: org.id },
      {
        credentialVersion: row.version,
        graceSeconds: options.graceSeconds,
        revokeTokens: options.revokeTokens,
      },
    );
    return { clientKey: row.clientKey, clientSecret, credentialVersion: row.version };
  });
}
