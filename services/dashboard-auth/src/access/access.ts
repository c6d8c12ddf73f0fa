import type { DbOrTx, TenantKind } from "@ipaas/db";
import { fail } from "../errors";
import { findLiveTenant } from "../shared/tenants.repository";

export const ACTIONS = ["read", "create", "update", "delete"] as const;
export type Action = (typeof ACTIONS)[number];

/** The modules dashboard-auth's own routes are guarded by (created by a migration). */
export const PLATFORM_MODULES = {
  users: "users",
  roles: "roles",
  modules: "modules",
  organizations: "organizations",
  auditEvents: "audit-events",
  banks: "banks",
  scopes: "scopes",
} as const;

export type Grants = Record<Action, boolean>;

export interface TenantRef {
  id: string;
  kind: TenantKind;
  /** For an organization, its bank. */
  bankId: string | null;
}

/** The caller as authorization sees them: read fresh from the database on every request (`findSessionWithActor`). */
export interface Actor {
  userId: string;
  tenant: TenantRef;
  head: boolean;
  internal: boolean;
  roleRank: number;
  /** Module slug → what the user may do. Empty for head users, who may do everything in their tenant. */
  grants: Map<string, Grants>;
}

/** The platform owner: a user of the MAIN tenant (all of whose users are internal). */
export function isPlatformOwner(actor: Pick<Actor, "tenant" | "internal">): boolean {
  return actor.tenant.kind === "MAIN" && actor.internal;
}

/** Function level: may the actor do `action` on `module` at all? */
export function can(actor: Actor, module: string, action: Action): boolean {
  return actor.head || actor.grants.get(module)?.[action] === true;
}

/**
 * Object level: may the actor touch data of `target`? Their own tenant; the platform owner's internal
 * users any tenant; a bank's users may read the organizations under that bank. Nothing else.
 */
export function reaches(actor: Actor, target: TenantRef, action: Action): boolean {
  if (target.id === actor.tenant.id) return true;
  if (actor.tenant.kind === "MAIN" && actor.internal) return true;
  return (
    actor.tenant.kind === "BANK" &&
    target.kind === "ORGANIZATION" &&
    target.bankId === actor.tenant.id &&
    action === "read"
  );
}

/** Throws NOT_FOUND (never FORBIDDEN) when the target is out of reach, so other tenants' ids cannot be probed. */
export function assertReaches(
  actor: Actor,
  target: TenantRef | null,
  action: Action,
  what: string,
): asserts target is TenantRef {
  if (!target || !reaches(actor, target, action)) throw fail("NOT_FOUND", `no such ${what}`);
}

/** Nobody grants what they do not hold: every flag set in `wanted` must be held by the actor. */
export function canGrant(actor: Actor, module: string, wanted: Grants): boolean {
  if (actor.head) return true;
  const held = actor.grants.get(module);
  return ACTIONS.every((a) => !wanted[a] || held?.[a] === true);
}

/**
 * The tenant a tenant-wide request acts on: the actor's own, or one named by `tenantId` when the actor
 * reaches it (answered 404 otherwise, like an id that does not exist).
 */
export async function reachableTenant(
  db: DbOrTx,
  actor: Actor,
  tenantId: string | undefined,
  action: Action,
): Promise<TenantRef> {
  if (!tenantId || tenantId === actor.tenant.id) return actor.tenant;
  const tenant = await findLiveTenant(db, tenantId);
  const ref = tenant ? { id: tenant.id, kind: tenant.kind, bankId: tenant.bankId } : null;
  assertReaches(actor, ref, action, "tenant");
  return ref;
}
