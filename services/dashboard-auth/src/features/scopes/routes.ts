import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import { requestOrigin } from "@ipaas/domain";
import type { FastifyInstance } from "fastify";
import Type from "typebox";
import { PLATFORM_MODULES } from "../../access/access";
import { platformOwnerOf } from "../../access/plugin";
import { Message, problems } from "../../shared/schemas";
import { CreateScope, ScopeParams, ScopeView, UpdateScope } from "./schemas";
import { scopeView } from "./scopes";

const M = PLATFORM_MODULES.scopes;

/** The scope catalogue: everyone signed in may read it (banks choose from it); only the platform owner changes it. */
export default async function scopeRoutes(fastify: FastifyInstance) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  app.get(
    "/scopes",
    {
      config: { access: { module: M, action: "read" } },
      schema: {
        tags: ["scopes"],
        summary: "The platform's API scope catalogue",
        security: [{ bearer: [] }],
        response: { 200: Type.Array(ScopeView), ...problems(401, 403) },
      },
    },
    async () => (await app.scopes.list()).map(scopeView),
  );

  app.post(
    "/scopes",
    {
      config: { access: { module: M, action: "create" } },
      schema: {
        tags: ["scopes"],
        summary: "Add a scope to the catalogue (platform owner)",
        security: [{ bearer: [] }],
        body: CreateScope,
        response: { 201: ScopeView, ...problems(400, 401, 403, 409) },
      },
    },
    async (request, reply) => {
      const scope = await app.scopes.create(
        platformOwnerOf(request, "manages the scope catalogue"),
        request.body,
        requestOrigin(request),
      );
      return reply.status(201).send(scopeView(scope));
    },
  );

  app.put(
    "/scopes/:name",
    {
      config: { access: { module: M, action: "update" } },
      schema: {
        tags: ["scopes"],
        summary: "Change a scope's description (platform owner)",
        security: [{ bearer: [] }],
        params: ScopeParams,
        body: UpdateScope,
        response: { 200: ScopeView, ...problems(400, 401, 403, 404) },
      },
    },
    async (request) =>
      scopeView(
        await app.scopes.update(
          platformOwnerOf(request, "manages the scope catalogue"),
          request.params.name,
          request.body.description,
          requestOrigin(request),
        ),
      ),
  );

  app.delete(
    "/scopes/:name",
    {
      config: { access: { module: M, action: "delete" } },
      schema: {
        tags: ["scopes"],
        summary: "Remove a scope (platform owner): every bank's list and every organization loses it at once",
        security: [{ bearer: [] }],
        params: ScopeParams,
        response: { 200: Message, ...problems(400, 401, 403, 404) },
      },
    },
    async (request) => {
      await app.scopes.delete(
        platformOwnerOf(request, "manages the scope catalogue"),
        request.params.name,
        requestOrigin(request),
      );
      app.outboxRelay?.kick();
      return { message: `Scope '${request.params.name}' removed` };
    },
  );
}
