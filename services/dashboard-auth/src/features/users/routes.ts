import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import { requestOrigin } from "@ipaas/domain";
import type { FastifyInstance } from "fastify";
import Type from "typebox";
import { PLATFORM_MODULES, reachableTenant } from "../../access/access";
import { actorOf } from "../../access/plugin";
import { principalOf } from "../../plugins/identity";
import { Message, problems, TenantQuery } from "../../shared/schemas";
import {
  CreateUser,
  DeleteUsersQuery,
  Page,
  UpdateSelf,
  UpdateUser,
  UserCreated,
  UserDetail,
  UserIdParams,
  UserListItem,
} from "./schemas";

const M = PLATFORM_MODULES.users;

export default async function userRoutes(fastify: FastifyInstance) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  app.post(
    "/users",
    {
      config: { access: { module: M, action: "create" } },
      schema: {
        tags: ["users"],
        summary: "Create a user in your tenant with a role and per-module permissions",
        description: "You cannot grant a permission you do not hold, nor a role above your own.",
        security: [{ bearer: [] }],
        querystring: TenantQuery,
        body: CreateUser,
        response: { 201: UserCreated, ...problems(400, 401, 403, 404, 409) },
      },
    },
    async (request, reply) => {
      const actor = actorOf(request);
      const tenant = await reachableTenant(app.db, actor, request.query.tenant_id, "create");
      const user = await app.users.create(actor, tenant, request.body, requestOrigin(request));
      return reply.status(201).send(await app.users.view(user));
    },
  );

  app.get(
    "/users",
    {
      config: { access: { module: M, action: "read" } },
      schema: {
        tags: ["users"],
        summary: "List the users of your tenant",
        security: [{ bearer: [] }],
        querystring: Page,
        response: { 200: Type.Array(UserListItem), ...problems(400, 401, 403, 404) },
      },
    },
    async (request) => {
      const actor = actorOf(request);
      const { offset, limit, tenant_id } = request.query;
      const tenant = await reachableTenant(app.db, actor, tenant_id, "read");
      return app.users.list(tenant, { offset, limit });
    },
  );

  app.get(
    "/users/profile",
    {
      config: { access: "signed-in" },
      schema: {
        tags: ["users"],
        summary: "Your own profile and permissions",
        security: [{ bearer: [] }],
        response: { 200: UserDetail, ...problems(401) },
      },
    },
    async (request) => app.users.view(await app.users.profile(principalOf(request).userId)),
  );

  app.get(
    "/users/:user_id",
    {
      config: { access: { module: M, action: "read" } },
      schema: {
        tags: ["users"],
        summary: "One user of your tenant",
        security: [{ bearer: [] }],
        params: UserIdParams,
        response: { 200: UserDetail, ...problems(401, 403, 404) },
      },
    },
    async (request) => app.users.view(await app.users.get(actorOf(request), request.params.user_id)),
  );

  app.put(
    "/users",
    {
      config: { access: "signed-in" },
      schema: {
        tags: ["users"],
        summary: "Change your own name",
        security: [{ bearer: [] }],
        body: UpdateSelf,
        response: { 200: Message, ...problems(400, 401) },
      },
    },
    async (request) => {
      await app.users.updateSelf(principalOf(request), request.body.name, requestOrigin(request));
      return { message: "User updated successfully" };
    },
  );

  app.put(
    "/users/:user_id",
    {
      config: { access: { module: M, action: "update" } },
      schema: {
        tags: ["users"],
        summary: "Change a user's role, permissions or status (Active / Disabled)",
        description: "Applies at once, also to tokens already issued. Nobody changes their own role.",
        security: [{ bearer: [] }],
        params: UserIdParams,
        body: UpdateUser,
        response: { 200: Message, ...problems(400, 401, 403, 404, 409) },
      },
    },
    async (request) => {
      await app.users.update(actorOf(request), request.params.user_id, request.body, requestOrigin(request));
      return { message: `User with id: ${request.params.user_id} updated successfully` };
    },
  );

  app.delete(
    "/users",
    {
      config: { access: { module: M, action: "delete" } },
      schema: {
        tags: ["users"],
        summary: "Delete users (?user_id=a&user_id=b): all or none; their sessions end at once",
        security: [{ bearer: [] }],
        querystring: DeleteUsersQuery,
        response: { 200: Message, ...problems(400, 401, 403, 404, 409) },
      },
    },
    async (request) => {
      const ids = request.query.user_id;
      await app.users.delete(actorOf(request), ids, requestOrigin(request));
      return { message: `User(s) with id: ${ids.join(", ")} deleted successfully` };
    },
  );
}
