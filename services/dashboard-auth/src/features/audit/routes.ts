import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import type { FastifyInstance } from "fastify";
import Type from "typebox";
import { PLATFORM_MODULES } from "../../access/access";
import { actorOf } from "../../access/plugin";
import { problems } from "../../shared/schemas";
import { auditEventView, listAuditEvents } from "./audit";
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
      const { offset, limit, actor: actorId, action, from, to, tenant_id: tenantId } = request.query;
      const query = { offset, limit, actorId, action, from, to, tenantId };
      return (await listAuditEvents(app.db, actorOf(request), query)).map(auditEventView);
    },
  );
}
