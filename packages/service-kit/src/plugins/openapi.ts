import swagger from "@fastify/swagger";
import swaggerUi from "@fastify/swagger-ui";
import type { FastifyInstance } from "fastify";
import fp from "fastify-plugin";
import { ProblemSchema } from "../errors";

export interface OpenApiOptions {
  title: string;
  description: string;
  version: string;
  serverUrl: string;
}

/**
 * The OpenAPI document is generated from the route schemas, so it cannot drift from the code:
 * `GET /openapi.json`, with a browsable UI at `/docs`.
 */
export const openApiPlugin = fp(
  async (app: FastifyInstance, options: OpenApiOptions) => {
    app.addSchema(ProblemSchema);
    await app.register(swagger, {
      openapi: {
        openapi: "3.1.0",
        info: { title: options.title, description: options.description, version: options.version },
        servers: [{ url: options.serverUrl }],
        components: {
          securitySchemes: {
            bearer: { type: "http", scheme: "bearer", bearerFormat: "JWT" },
            basic: { type: "http", scheme: "basic" },
          },
        },
      },
      refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => String(json.$id ?? `def-${i}`) },
    });
    await app.register(swaggerUi, { routePrefix: "/docs", staticCSP: true });
    app.get("/openapi.json", { schema: { hide: true } }, async () => app.swagger());
  },
  { name: "openapi" },
);
