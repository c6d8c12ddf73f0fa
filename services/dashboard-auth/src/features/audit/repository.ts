import type { DbOrTx } from "@ipaas/db";

export interface AuditFilter {
  tenantId: string;
  actorId?: string | undefined;
  action?: string | undefined;
  from?: Date | undefined;
  to?: Date | undefined;
}

/** A tenant's audit events, newest first. */
export function findAuditEvents(db: DbOrTx, filter: AuditFilter, page: { offset: number; limit: number }) {
  const { tenantId, actorId, action, from, to } = filter;
  return db.auditEvent.findMany({
    where: {
      tenantId,
      ...(actorId ? { actorId } : {}),
      ...(action ? { action } : {}),
      ...(from || to ? { createdAt: { ...(from ? { gte: from } : {}), ...(to ? { lte: to } : {}) } } : {}),
    },
    orderBy: [{ createdAt: "desc" }, { id: "desc" }],
    skip: page.offset,
    take: page.limit,
  });
}
