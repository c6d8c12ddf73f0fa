import type { DbOrTx, Prisma } from "@ipaas/db";
import type { FastifyRequest } from "fastify";
import { newId } from "./ids";

export type AuditOutcome = "success" | "failure";
export type ActorType = "user" | "client" | "end_user" | "system" | "anonymous";

export interface AuditEntry {
  action: string;
  outcome: AuditOutcome;
  actorType: ActorType;
  actorId?: string | null;
  tenantId?: string | null;
  targetType?: string | null;
  targetId?: string | null;
  /** Facts worth keeping. Never a secret, code, token, password or personal data. */
  details?: Prisma.InputJsonValue;
}

/** Who sent the request: the client address Fastify resolved (trusting only configured proxies) and agent. */
export function requestOrigin(request: FastifyRequest): { ip: string; userAgent: string | null } {
  const agent = request.headers["user-agent"];
  return { ip: request.ip, userAgent: typeof agent === "string" ? agent.slice(0, 512) : null };
}

/**
 * Writes one audit event. Pass the transaction of the change it records, so the change and its record
 * commit together; a failed attempt is recorded outside any transaction that rolls back.
 */
export async function writeAudit(
  db: DbOrTx,
  entry: AuditEntry,
  origin: { ip: string | null; userAgent: string | null },
): Promise<void> {
  await db.auditEvent.create({
    data: {
      id: newId("aud"),
      action: entry.action,
      outcome: entry.outcome,
      actorType: entry.actorType,
      actorId: entry.actorId ?? null,
      tenantId: entry.tenantId ?? null,
      targetType: entry.targetType ?? null,
      targetId: entry.targetId ?? null,
      details: entry.details,
      ip: origin.ip,
      userAgent: origin.userAgent,
    },
  });
}
