import type { AuditEventModel, DbOrTx, Prisma } from "@ipaas/db";
import { writeAudit } from "@ipaas/domain";
import { type Actor, reachableTenant, type TenantRef } from "../../access/access";
import type { Origin } from "../sessions/sessions";
import { findAuditEvents } from "./repository";

/** The tenant reference of a loaded tenant row, for object-level checks. */
export function tenantRef(tenant: { id: string; kind: TenantRef["kind"]; bankId: string | null }): TenantRef {
  return { id: tenant.id, kind: tenant.kind, bankId: tenant.bankId };
}

/** Records a change a dashboard user made; pass the change's transaction so both commit together. */
export function auditChange(
  db: DbOrTx,
  origin: Origin,
  actor: { userId: string },
  action: string,
  target: { type: string; id: string; tenantId: string | null },
  details?: Prisma.InputJsonValue,
): Promise<void> {
  return writeAudit(
    db,
    {
      action,
      outcome: "success",
      actorType: "user",
      actorId: actor.userId,
      tenantId: target.tenantId,
      targetType: target.type,
      targetId: target.id,
      ...(details === undefined ? {} : { details }),
    },
    origin,
  );
}

export interface AuditQuery {
  tenantId?: string | undefined;
  actorId?: string | undefined;
  action?: string | undefined;
  from?: string | undefined;
  to?: string | undefined;
  offset: number;
  limit: number;
}

/** The audit events of the actor's tenant, or of one they reach, filtered and paged. */
export async function listAuditEvents(db: DbOrTx, actor: Actor, query: AuditQuery) {
  const tenant = await reachableTenant(db, actor, query.tenantId, "read");
  const filter = {
    tenantId: tenant.id,
    actorId: query.actorId,
    action: query.action,
    from: query.from ? new Date(query.from) : undefined,
    to: query.to ? new Date(query.to) : undefined,
  };
  return findAuditEvents(db, filter, query);
}

/** The audit event as the API shows it. */
export function auditEventView(e: AuditEventModel) {
  return {
    id: e.id,
    tenant_id: e.tenantId,
    actor_id: e.actorId,
    actor_type: e.actorType,
    action: e.action,
    outcome: e.outcome,
    target_type: e.targetType,
    target_id: e.targetId,
    ip: e.ip,
    user_agent: e.userAgent,
    details: e.details,
    created_at: e.createdAt.toISOString(),
  };
}
