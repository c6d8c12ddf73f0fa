import type { FastifyInstance } from "fastify";
import fp from "fastify-plugin";
import type { BaseConfig as Config } from "../config";
import { type MasterKey, masterKeyOf } from "../crypto";
import { commonErrors } from "../errors";
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

/**
 * The security headers of every answer, built once (OWASP's set for a JSON API): no content may load and no
 * page may frame an answer, HTTPS only for a year, no MIME sniffing, no referrer, no cross-origin embedding.
 * The headers that only matter to HTML pages are left out. The docs UI, the one HTML page, sets a
 * Content-Security-Policy of its own.
 */
export const SECURITY_HEADERS = {
  "content-security-policy": "default-src 'none'; frame-ancestors 'none'",
  "strict-transport-security": "max-age=31536000; includeSubDomains",
  "x-content-type-options": "nosniff",
  "x-frame-options": "DENY",
  "referrer-policy": "no-referrer",
  "cross-origin-resource-policy": "same-origin",
} as const;

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
    // One hook sets them all, from an object built once: no per-request header building.
    app.addHook("onRequest", (request, reply, done) => {
      reply.headers(SECURITY_HEADERS).header("x-request-id", request.id);
      done();
    });
    // Postgres cannot store the NUL character in text: refused here, with a 400, rather than by the database.
    app.addHook("preValidation", async (request) => {
      for (const [part, value] of [
        ["path", request.params],
        ["query", request.query],
        ["body", request.body],
      ] as const) {
        if (holdsNul(value))
          throw commonErrors.fail("VALIDATION_FAILED", `the ${part} holds the NUL character (\\u0000)`);
      }
    });
    await app.register(healthPlugin);
    await app.register(metricsPlugin, { service: options.service, token: options.config.METRICS_TOKEN });
  },
  { name: "platform" },
);

/** Whether a string anywhere in `value` (keys included) holds U+0000; iterative, so no depth overflows. */
function holdsNul(value: unknown): boolean {
  const pending: unknown[] = [value];
  while (pending.length > 0) {
    const next = pending.pop();
    if (typeof next === "string") {
      if (next.includes("\u0000")) return true;
    } else if (next !== null && typeof next === "object") {
      for (const [key, inner] of Object.entries(next)) {
        if (key.includes("\u0000")) return true;
        pending.push(inner);
      }
    }
  }
  return false;
}
