import rateLimit from "@fastify/rate-limit";
import type { FastifyInstance } from "fastify";
import fp from "fastify-plugin";
import { fail } from "../errors";

/**
 * Per-client-address limits, opted into per route (`config.rateLimit`). The address is `request.ip`,
 * which believes X-Forwarded-For only from the proxies in TRUST_PROXY, so a spoofed header from anyone
 * else does not buy a fresh allowance.
 */
export const rateLimitPlugin = fp(
  async (app: FastifyInstance) => {
    await app.register(rateLimit, {
      global: false,
      max: app.config.AUTH_RATE_LIMIT_PER_MINUTE,
      timeWindow: 60_000,
      keyGenerator: (request) => request.ip,
      // Shared by every instance when REDIS_URL is set; this process's memory otherwise.
      ...(app.limitStore ? { store: app.limitStore } : {}),
      errorResponseBuilder: (_request, context) => {
        const error = fail("RATE_LIMITED", `try again in ${Math.ceil(context.ttl / 1000)} s`, {
          headers: { "retry-after": String(Math.ceil(context.ttl / 1000)) },
        });
        return error;
      },
    });
  },
  { name: "rate-limit", dependencies: ["platform", "shared-limits"] },
);

/** Route option for the sensitive routes: the configured per-minute allowance per client address. */
export const authRateLimit = { rateLimit: {} } as const;
