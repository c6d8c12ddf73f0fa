import type { DbOrTx, TenantKind } from "@ipaas/db";
import { newId } from "@ipaas/domain";
import { insertRoles } from "./tenants.repository";

/**
 * The roles every tenant has from birth. The first holds every permission in the tenant and is given
 * to the tenant's first user; system roles cannot be deleted. Lower rank = more powerful.
 */
export const SYSTEM_ROLES: Record<TenantKind, Array<{ name: string; rank: number }>> = {
  MAIN: [
    { name: "Owner", rank: 0 },
    { name: "Admin", rank: 10 },
  ],
  BANK: [
    { name: "Master Admin", rank: 0 },
    { name: "Admin", rank: 10 },
  ],
  ORGANIZATION: [
    { name: "Super Admin", rank: 0 },
    { name: "Admin", rank: 10 },
  ],
};

/** Creates the tenant's system roles and returns the top one (for the first user). */
export async function createSystemRoles(
  tx: DbOrTx,
  tenantId: string,
  kind: TenantKind,
): Promise<{ id: string; name: string }> {
  const roles = SYSTEM_ROLES[kind].map((r) => ({
    id: newId("rol"),
    tenantId,
    name: r.name,
    rank: r.rank,
    isSystem: true,
  }));
  await insertRoles(tx, roles);
  const top = roles[0];
  if (!top) throw new Error(`no system roles for ${kind}`);
  return { id: top.id, name: top.name };
}

export const ORGANIZATION_TYPES = { Biller: "BILLER", "Agent Institution": "AGENT_INSTITUTION" } as const;
export type OrganizationTypeLabel = keyof typeof ORGANIZATION_TYPES;

export function organizationTypeLabel(type: "BILLER" | "AGENT_INSTITUTION" | null): OrganizationTypeLabel | null {
  if (type === "BILLER") return "Biller";
  if (type === "AGENT_INSTITUTION") return "Agent Institution";
  return null;
}

const STATUS_LABELS = { ACTIVE: "Active", SUSPENDED: "Suspended", DISABLED: "Disabled", PENDING: "Pending" } as const;
type StatusLabels = typeof STATUS_LABELS;

/** The seed's status words. */
export function statusLabel<S extends keyof StatusLabels>(status: S): StatusLabels[S] {
  return STATUS_LABELS[status];
}

/** "Pending" → "PENDING": a tenant status as the seed spells it, back to the database's. */
export function tenantStatusOf(label: "Active" | "Suspended" | "Pending"): "ACTIVE" | "SUSPENDED" | "PENDING" {
  return label === "Active" ? "ACTIVE" : label === "Suspended" ? "SUSPENDED" : "PENDING";
}
