import swagger from "@fastify/swagger";
import swaggerUi from "@fastify/swagger-ui";
import type { FastifyInstance, FastifySchema } from "fastify";
import fp from "fastify-plugin";
import { ProblemSchema } from "../errors";

export interface OpenApiOptions {
  title: string;
  description: string;
  version: string;
  serverUrl: string;
}

/**
 * Every route that answers errors can also answer 503: a route that needs Postgres fails closed while it
 * cannot be read, and a limited route while its limits cannot be counted. Declared in the document with the
 * route's own error shape (a problem, or RFC 6749's error on the OAuth routes); the schemas that serialize
 * answers are left as they are.
 */
function withUnavailable(schema: FastifySchema): FastifySchema {
  const response = schema?.response as Record<string, unknown> | undefined;
  if (!response || "503" in response) return schema;
  const error = Object.entries(response).find(([status]) => /^4\d\d$/.test(status))?.[1];
  return error === undefined ? schema : { ...schema, response: { ...response, 503: error } };
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
      transform: ({ schema, url }) => ({ schema: withUnavailable(schema), url }),
      refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => String(json.$id ?? `def-${i}`) },
    });
    // "Authorize" takes a token (or a client key and secret) once for every route, kept across reloads, and
    // each route opens ready to try.
    await app.register(swaggerUi, {
      routePrefix: "/docs",
      staticCSP: true,
      uiConfig: { persistAuthorization: true, tryItOutEnabled: true },
    });
    app.get("/openapi.json", { schema: { hide: true } }, async () => app.swagger());
  },
  { name: "openapi" },
);
