import type { FastifyInstance } from "fastify";
import fp from "fastify-plugin";
import { Redis } from "ioredis";
import { ProblemError } from "../errors";

declare module "fastify" {
  interface FastifyInstance {
    /**
     * The store the per-address request limits count in: Redis when `REDIS_URL` is set, so a limit holds
     * across every instance; null for process memory (a single instance).
     */
    limitStore: LimitStoreClass | null;
  }
}

/** What @fastify/rate-limit calls on a store (its `store` option takes the class). */
export interface LimitStore {
  incr(
    key: string,
    done: (error: Error | null, result?: { current: number; ttl: number }) => void,
    timeWindow: number,
    max: number,
  ): void;
  /** Called per route with the route's merged limit settings, which name the route (`routeInfo`). */
  child(routeOptions: object): LimitStore;
}
export type LimitStoreClass = new (options: unknown) => LimitStore;

/**
 * One window per key: the first request of a window sets its expiry; every request counts and learns how
 * long the window has left. Atomic in Redis, so concurrent requests at different instances count once each.
 */
const COUNT = `
local current = redis.call('INCR', KEYS[1])
if current == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]); ttl = tonumber(ARGV[1]) end
return { current, ttl }`;

/**
 * The store class for one Redis client and key prefix. When Redis cannot answer, the request is refused
 * with 503 rather than let through unlimited: a limit that silently stops counting is no limit.
 */
export function redisLimitStore(redis: Redis, prefix: string): LimitStoreClass {
  class RedisLimitStore implements LimitStore {
    constructor(private readonly keyPrefix: string = prefix) {}

    incr(
      key: string,
      done: (error: Error | null, result?: { current: number; ttl: number }) => void,
      timeWindow: number,
    ): void {
      redis.eval(COUNT, 1, `${this.keyPrefix}${key}`, String(timeWindow)).then(
        (result) => {
          const [current, ttl] = result as [number, number];
          done(null, { current, ttl });
        },
        () =>
          done(
            new ProblemError("UNAVAILABLE", 503, "Service unavailable", "request limits cannot be checked right now"),
          ),
      );
    }

    child(routeOptions: object): LimitStore {
      const route = (routeOptions as { routeInfo?: { method: string; url: string } }).routeInfo;
      return new RedisLimitStore(route ? `${prefix}${route.method}${route.url}:` : prefix);
    }
  }
  // @fastify/rate-limit builds the store with its settings; this one needs none of them.
  return RedisLimitStore as unknown as LimitStoreClass;
}

/**
 * `app.limitStore`: with `REDIS_URL`, a Redis connection (reported in readiness, closed with the app)
 * and the store class for it; without, null. Commands fail at once while Redis is unreachable instead of
 * queueing, so a request waits for no outage.
 */
export const sharedLimitsPlugin = fp(
  async (app: FastifyInstance, options: { url: string | undefined; service: string }) => {
    if (!options.url) {
      app.decorate("limitStore", null);
      return;
    }
    const log = app.log.child({ component: "shared-limits" });
    const redis = new Redis(options.url, {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      lazyConnect: true,
      retryStrategy: (attempt) => Math.min(attempt * 200, 5_000),
    });
    let reported = false;
    redis.on("error", (error: Error) => {
      // Once per outage: ioredis retries on its own and would repeat the same line every attempt.
      // The message only: the URL may carry a password.
      if (!reported) log.warn({ err: error.message }, "Redis unreachable");
      reported = true;
    });
    redis.on("ready", () => {
      reported = false;
    });
    await redis.connect().catch(() => undefined);
    app.decorate("limitStore", redisLimitStore(redis, `ipaas:${options.service}:limits:`));
    app.readiness.add("redis", () => {
      const ok = redis.status === "ready";
      return { ok, detail: ok ? "connected" : "unreachable" };
    });
    app.addHook("onClose", async () => {
      await redis.quit().catch(() => redis.disconnect());
    });
  },
  { name: "shared-limits", dependencies: ["health"] },
);
