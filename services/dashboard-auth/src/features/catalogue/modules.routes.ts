import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import { requestOrigin } from "@ipaas/domain";
import type { FastifyInstance } from "fastify";
import Type from "typebox";
import { PLATFORM_MODULES } from "../../access/access";
import { platformOwnerOf } from "../../access/plugin";
import { IdParams, IdsQuery, Message, problems } from "../../shared/schemas";
import { moduleView } from "./catalogue";
import { ModuleBody, ModuleCreated, ModuleView } from "./schemas";

const M = PLATFORM_MODULES.modules;

export default async function moduleRoutes(fastify: FastifyInstance) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  app.post(
    "/modules",
    {
      config: { access: { module: M, action: "create" } },
      schema: {
        tags: ["modules"],
        summary: "Add a module to the catalogue (platform owner)",
        security: [{ bearer: [] }],
        body: ModuleBody,
        response: { 201: ModuleCreated, ...problems(400, 401, 403, 409) },
      },
    },
    async (request, reply) => {
      const module = await app.catalogue.createModule(
        platformOwnerOf(request, "manages modules"),
        request.body.module,
        requestOrigin(request),
      );
      return reply.status(201).send({ message: "Module added successfully", ...moduleView(module) });
    },
  );

  app.get(
    "/modules",
    {
      config: { access: { module: M, action: "read" } },
      schema: {
        tags: ["modules"],
        summary: "The module catalogue",
        security: [{ bearer: [] }],
        response: { 200: Type.Array(ModuleView), ...problems(401, 403) },
      },
    },
    async () => (await app.catalogue.listModules()).map(moduleView),
  );

  app.get(
    "/modules/:id",
    {
      config: { access: { module: M, action: "read" } },
      schema: {
        tags: ["modules"],
        summary: "One module",
        security: [{ bearer: [] }],
        params: IdParams,
        response: { 200: ModuleView, ...problems(401, 403, 404) },
      },
    },
    async (request) => moduleView(await app.catalogue.getModule(request.params.id)),
  );

  app.put(
    "/modules/:id",
    {
      config: { access: { module: M, action: "update" } },
      schema: {
        tags: ["modules"],
        summary: "Rename a module (its slug stays) (platform owner)",
        security: [{ bearer: [] }],
        params: IdParams,
        body: ModuleBody,
        response: { 200: Message, ...problems(400, 401, 403, 404) },
      },
    },
    async (request) => {
      await app.catalogue.renameModule(
        platformOwnerOf(request, "manages modules"),
        request.params.id,
        request.body.module,
        requestOrigin(request),
      );
      return { message: `Module with id: ${request.params.id} updated successfully` };
    },
  );

  app.delete(
    "/modules",
    {
      config: { access: { module: M, action: "delete" } },
      schema: {
        tags: ["modules"],
        summary: "Delete modules (?id=a&id=b): all or none (platform owner)",
        security: [{ bearer: [] }],
        querystring: IdsQuery,
        response: { 200: Message, ...problems(400, 401, 403, 404, 409) },
      },
    },
    async (request) => {
      await app.catalogue.deleteModules(
        platformOwnerOf(request, "manages modules"),
        request.query.id,
        requestOrigin(request),
      );
      return { message: `Module with id(s): ${request.query.id.join(",")} deleted successfully` };
    },
  );
}
