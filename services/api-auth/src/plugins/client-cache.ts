import type { FastifyInstance } from "fastify";
import fp from "fastify-plugin";
import type { ApiConfig } from "../config";
import { ClientCache } from "../domain/client-cache";
import { findClientByKey } from "../repositories/organization-credentials";

declare module "fastify" {
  interface FastifyInstance {
    /** Organization clients by client key, cached for CLIENT_CACHE_TTL_SECONDS. */
    clients: ClientCache;
  }
}

/**
 * `app.clients`: the bounded, TTL-limited cache of organization credentials. The organization events
 * (credential rotated, organization updated or deleted) drop entries through the organization-sync
 * plugin; the TTL bounds staleness when an event does not arrive.
 */
export const clientCachePlugin = fp(
  async (
    app: FastifyInstance,
    {
      CLIENT_CACHE_TTL_SECONDS,
      CLIENT_CACHE_MAX_ENTRIES,
    }: Pick<ApiConfig, "CLIENT_CACHE_TTL_SECONDS" | "CLIENT_CACHE_MAX_ENTRIES">,
  ) => {
    app.decorate(
      "clients",
      new ClientCache((clientKey) => findClientByKey(app.db, clientKey), {
        ttlMs: CLIENT_CACHE_TTL_SECONDS * 1000,
        maxEntries: CLIENT_CACHE_MAX_ENTRIES,
      }),
    );
  },
  { name: "client-cache", dependencies: ["platform", "database"] },
);
