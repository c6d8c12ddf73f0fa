import type { Db, Prisma } from "@ipaas/db";
import { writeAudit } from "@ipaas/service-kit";
import { fail } from "../errors";
import { type Actor, assertReaches } from "./access";
import type { Origin } from "./sessions";
import { organizationTypeLabel, statusLabel } from "./tenancy";

const organizationInclude = { credential: true } satisfies Prisma.TenantInclude;
type OrganizationRow = Prisma.TenantGetPayload<{ include: typeof organizationInclude }>;

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
}

/** Organizations as their own users, their bank and the platform owner see and change them. */
export class Organizations {
  constructor(private readonly db: Db) {}

  /** The caller's organization, or the one named by `orgId` when the caller reaches it. */
  async get(actor: Actor, orgId: string | undefined, action: "read" | "update" | "delete"): Promise<OrganizationRow> {
    const id = orgId ?? (actor.tenant.kind === "ORGANIZATION" ? actor.tenant.id : undefined);
    if (!id) {
      throw fail("VALIDATION_FAILED", "org_id: required for users outside an organization", {
        errors: [{ field: "org_id", message: "required for users outside an organization" }],
      });
    }
    const org = await this.db.tenant.findFirst({
      where: { id, kind: "ORGANIZATION", deletedAt: null },
      include: organizationInclude,
    });
    assertReaches(actor, org ? { id: org.id, kind: org.kind, bankId: org.bankId } : null, action, "organization");
    if (!org) throw fail("NOT_FOUND", "no such organization");
    return org;
  }

  /**
   * An organization may rename itself, change its phone and drop scopes; only the platform owner may add
   * scopes or change its status, since an organization must not widen its own API access or lift its own
   * suspension.
   */
  async update(actor: Actor, org: OrganizationRow, change: OrganizationChange, origin: Origin): Promise<void> {
    const platformOwner = actor.tenant.kind === "MAIN" && actor.internal;
    if (change.scopes && !platformOwner) {
      const added = change.scopes.filter((s) => !org.scopes.includes(s));
      if (added.length > 0) throw fail("FORBIDDEN", `only the platform owner may add scopes (${added.join(", ")})`);
    }
    if (change.status && !platformOwner && statusLabel(org.status) !== change.status) {
      throw fail("FORBIDDEN", "only the platform owner may change an organization's status");
    }
    const status = change.status ? (change.status === "Active" ? "ACTIVE" : "SUSPENDED") : undefined;
    await this.db.$transaction(async (tx) => {
      await tx.tenant.update({
        where: { id: org.id },
        data: {
          ...(change.company_name ? { name: change.company_name.trim() } : {}),
          ...(change.scopes ? { scopes: change.scopes } : {}),
          ...(change.phone ? { phone: change.phone } : {}),
          ...(status ? { status } : {}),
          version: { increment: 1 },
        },
      });
      await writeAudit(
        tx,
        {
          action: "organization.updated",
          outcome: "success",
          actorType: "user",
          actorId: actor.userId,
          tenantId: org.id,
          targetType: "tenant",
          targetId: org.id,
          details: { fields: Object.keys(change), status: change.status ?? null, scopes: change.scopes ?? null },
        },
        origin,
      );
    });
  }

  /** Soft-deletes the organization; every session of its users ends at once. */
  async delete(actor: Actor, org: OrganizationRow, origin: Origin): Promise<void> {
    await this.db.$transaction(async (tx) => {
      const now = new Date();
      await tx.tenant.update({ where: { id: org.id }, data: { deletedAt: now, version: { increment: 1 } } });
      await tx.session.updateMany({
        where: { endedAt: null, user: { tenantId: org.id } },
        data: { endedAt: now, endReason: "organization_deleted" },
      });
      await writeAudit(
        tx,
        {
          action: "organization.deleted",
          outcome: "success",
          actorType: "user",
          actorId: actor.userId,
          tenantId: org.id,
          targetType: "tenant",
          targetId: org.id,
        },
        origin,
      );
    });
  }
}
