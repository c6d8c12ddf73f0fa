import type { FastifyInstance } from "fastify";
import fp from "fastify-plugin";
import { Counter, collectDefaultMetrics, Histogram, Registry } from "prom-client";
import { bearerToken } from "../bearer";
import { digestsEqual, sha256Hex } from "../crypto";
import { commonErrors } from "../errors";

/** A counter other packages can add to without depending on prom-client. */
export interface MetricCounter {
  inc(value?: number): void;
}

declare module "fastify" {
  interface FastifyInstance {
    metrics: {
      registry: Registry;
      /** Registers a counter (`<name>` should end in `_total`) in the service's registry. */
      counter(name: string, help: string): MetricCounter;
    };
  }
}

export interface MetricsOptions {
  service: string;
  /** The bearer token `/metrics` requires; without one, `/metrics` is not served at all. */
  token: string | undefined;
}

/**
 * Prometheus metrics at `GET /metrics`: process defaults plus request duration by route and status.
 * Metrics tell an attacker what runs and how busy it is, so the route exists only when METRICS_TOKEN is
 * set (404 otherwise, like any unknown path) and answers only a request bearing that token.
 */
export const metricsPlugin = fp(
  async (app: FastifyInstance, options: MetricsOptions) => {
    const registry = new Registry();
    registry.setDefaultLabels({ service: options.service });
    collectDefaultMetrics({ register: registry });
    const duration = new Histogram({
      name: "http_request_duration_seconds",
      help: "HTTP request duration by method, route and status",
      labelNames: ["method", "route", "status"] as const,
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    });
    app.decorate("metrics", {
      registry,
      counter: (name: string, help: string) => new Counter({ name, help, registers: [registry] }),
    });

    app.addHook("onResponse", async (request, reply) => {
      duration.observe(
        {
          method: request.method,
          route: request.routeOptions.url ?? "not_found",
          status: String(reply.statusCode),
        },
        reply.elapsedTime / 1000,
      );
    });

    if (options.token === undefined) return;
    // Both sides hashed, so the comparison takes the same time whatever the presented token's length.
    const expected = sha256Hex(options.token);
    app.get("/metrics", { schema: { hide: true }, logLevel: "warn" }, async (request, reply) => {
      const presented = bearerToken(request);
      if (presented === null || !digestsEqual(sha256Hex(presented), expected)) {
        throw commonErrors.fail("UNAUTHENTICATED", "send the metrics token as `Authorization: Bearer <token>`", {
          headers: { "www-authenticate": 'Bearer realm="metrics"' },
        });
      }
      reply.type(registry.contentType);
      return registry.metrics();
    });
  },
  { name: "metrics" },
);
