import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import type { Prisma } from "@ipaas/db";
import type { FastifyInstance } from "fastify";
import Type from "typebox";
import { PLATFORM_MODULES } from "../../access/access";
import { actorOf } from "../../access/plugin";
import { problems } from "../../shared/schemas";
import { AuditQuery, AuditView } from "./schemas";

export default async function auditRoutes(fastify: FastifyInstance) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  app.get(
    "/audit-events",
    {
      config: { access: { module: PLATFORM_MODULES.auditEvents, action: "read" } },
      schema: {
        tags: ["audit"],
        summary: "Your tenant's audit events, newest first; filter by actor, action and time",
        security: [{ bearer: [] }],
        querystring: AuditQuery,
        response: { 200: Type.Array(AuditView), ...problems(400, 401, 403, 404) },
      },
    },
    async (request) => {
      const actor = actorOf(request);
      const { offset, limit, actor: actorId, action, from, to, tenant_id } = request.query;
      const tenant = await app.users.targetTenant(actor, tenant_id, "read");
      const where: Prisma.AuditEventWhereInput = {
        tenantId: tenant.id,
        ...(actorId ? { actorId } : {}),
        ...(action ? { action } : {}),
        ...(from || to
          ? { createdAt: { ...(from ? { gte: new Date(from) } : {}), ...(to ? { lte: new Date(to) } : {}) } }
          : {}),
      };
      const events = await app.db.auditEvent.findMany({
        where,
        orderBy: [{ createdAt: "desc" }, { id: "desc" }],
        skip: offset,
        take: limit,
      });
      return events.map((e) => ({
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
      }));
    },
  );
}
