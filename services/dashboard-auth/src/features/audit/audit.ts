import type { DbOrTx, Prisma } from "@ipaas/db";
import { writeAudit } from "@ipaas/service-kit";
import type { TenantRef } from "../../access/access";
import type { Origin } from "../sessions/sessions";

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
