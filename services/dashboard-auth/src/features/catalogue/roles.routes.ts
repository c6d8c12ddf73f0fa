import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import { requestOrigin } from "@ipaas/domain";
import type { FastifyInstance } from "fastify";
import Type from "typebox";
import { PLATFORM_MODULES, reachableTenant } from "../../access/access";
import { actorOf } from "../../access/plugin";
import { IdParams, IdsQuery, Message, problems, TenantQuery } from "../../shared/schemas";
import { roleView } from "./catalogue";
import { CreateRole, RoleCreated, RoleView } from "./schemas";

const M = PLATFORM_MODULES.roles;

export default async function roleRoutes(fastify: FastifyInstance) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  app.post(
    "/roles",
    {
      config: { access: { module: M, action: "create" } },
      schema: {
        tags: ["roles"],
        summary: "Add a custom role to your tenant",
        security: [{ bearer: [] }],
        querystring: TenantQuery,
        body: CreateRole,
        response: { 201: RoleCreated, ...problems(400, 401, 403, 404, 409) },
      },
    },
    async (request, reply) => {
      const actor = actorOf(request);
      const tenant = await reachableTenant(app.db, actor, request.query.tenant_id, "create");
      const role = await app.catalogue.createRole(actor, tenant, request.body.role, requestOrigin(request));
      const { system: _system, ...view } = roleView(role);
      return reply.status(201).send({ message: "New role added successfully", ...view });
    },
  );

  app.get(
    "/roles",
    {
      config: { access: { module: M, action: "read" } },
      schema: {
        tags: ["roles"],
        summary: "The roles of your tenant, system roles first",
        security: [{ bearer: [] }],
        querystring: TenantQuery,
        response: { 200: Type.Array(RoleView), ...problems(401, 403, 404) },
      },
    },
    async (request) => {
      const actor = actorOf(request);
      const tenant = await reachableTenant(app.db, actor, request.query.tenant_id, "read");
      return (await app.catalogue.listRoles(tenant)).map(roleView);
    },
  );

  // The seed writes these two both as /roles/… and /role/…; both work.
  for (const base of ["/roles", "/role"]) {
    app.get(
      `${base}/:id`,
      {
        config: { access: { module: M, action: "read" } },
        schema: {
          tags: ["roles"],
          summary: "One role",
          security: [{ bearer: [] }],
          params: IdParams,
          response: { 200: RoleView, ...problems(401, 403, 404) },
        },
      },
      async (request) => roleView(await app.catalogue.getRole(actorOf(request), request.params.id)),
    );

    app.delete(
      base,
      {
        config: { access: { module: M, action: "delete" } },
        schema: {
          tags: ["roles"],
          summary: "Delete custom roles (?id=a&id=b): all or none; system roles and roles in use are refused",
          security: [{ bearer: [] }],
          querystring: IdsQuery,
          response: { 200: Message, ...problems(400, 401, 403, 404, 409) },
        },
      },
      async (request) => {
        await app.catalogue.deleteRoles(actorOf(request), request.query.id, requestOrigin(request));
        return { message: `Role with id(s): ${request.query.id.join(",")} deleted successfully` };
      },
    );
  }
}
