import helmet from "@fastify/helmet";
import type { FastifyInstance } from "fastify";
import fp from "fastify-plugin";
import type { BaseConfig as Config } from "../config";
import { type MasterKey, masterKeyOf } from "../crypto";
import { healthPlugin } from "./health";
import { metricsPlugin } from "./metrics";
import { type OpenApiOptions, openApiPlugin } from "./openapi";
import { problemsPlugin } from "./problems";

declare module "fastify" {
  interface FastifyInstance {
    config: Config;
    masterKey: MasterKey;
  }
}

export interface PlatformOptions {
  config: Config;
  service: string;
  openapi: OpenApiOptions;
}

/**
 * Everything a service has before its own routes: config, the master key, problem+json errors,
 * security headers, request ids echoed back, health, metrics and OpenAPI.
 */
export const platformPlugin = fp(
  async (app: FastifyInstance, options: PlatformOptions) => {
    app.decorate("config", options.config);
    app.decorate("masterKey", masterKeyOf(options.config));
    // OpenAPI first: it documents only the routes registered after it.
    await app.register(openApiPlugin, options.openapi);
    await app.register(problemsPlugin, { baseUrl: options.openapi.serverUrl });
    await app.register(helmet, {
      // The docs UI is the only HTML we serve; its own plugin sets a matching CSP for it.
      contentSecurityPolicy: { directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] } },
      hsts: { maxAge: 31_536_000, includeSubDomains: true },
    });
    app.addHook("onSend", async (request, reply) => {
      reply.header("x-request-id", request.id);
    });
    await app.register(healthPlugin);
    await app.register(metricsPlugin, { service: options.service, token: options.config.METRICS_TOKEN });
  },
  { name: "platform" },
);
