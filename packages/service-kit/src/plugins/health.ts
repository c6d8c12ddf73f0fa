import type { FastifyBaseLogger, FastifyInstance } from "fastify";
import fp from "fastify-plugin";
import Type from "typebox";

export interface CheckResult {
  ok: boolean;
  /**
   * A fixed phrase ("connected", "unreachable"): readiness is public, so never an error message, host
   * name or address. The reason for a failure belongs in the log.
   */
  detail: string;
}
/** Resolves to the dependency's state; a check that throws is reported "unreachable" and its error logged. */
export type ReadinessCheck = () => Promise<CheckResult> | CheckResult;

/** What the service depends on; `/health/ready` runs every registered check. */
export class Readiness {
  readonly #checks = new Map<string, ReadinessCheck>();

  add(name: string, check: ReadinessCheck): void {
    this.#checks.set(name, check);
  }

  async run(
    log: Pick<FastifyBaseLogger, "warn">,
    timeoutMs = 2_000,
  ): Promise<{ ok: boolean; checks: Record<string, CheckResult> }> {
    const entries = await Promise.all(
      [...this.#checks].map(async ([name, check]) => {
        let timer: NodeJS.Timeout | undefined;
        const timeout = new Promise<CheckResult>((resolve) => {
          timer = setTimeout(() => resolve({ ok: false, detail: `no answer within ${timeoutMs} ms` }), timeoutMs);
        });
        try {
          const { ok, detail } = await Promise.race([Promise.resolve().then(check), timeout]);
          return [name, { ok, detail }] as const;
        } catch (error) {
          log.warn({ err: error, check: name }, "readiness check failed");
          return [name, { ok: false, detail: "unreachable" }] as const;
        } finally {
          clearTimeout(timer);
        }
      }),
    );
    const checks = Object.fromEntries(entries);
    return { ok: entries.every(([, r]) => r.ok), checks };
  }
}

declare module "fastify" {
  interface FastifyInstance {
    readiness: Readiness;
  }
}

const CheckSchema = Type.Object({ ok: Type.Boolean(), detail: Type.String() });
const ReadySchema = Type.Object({
  status: Type.Union([Type.Literal("ready"), Type.Literal("not_ready")]),
  checks: Type.Record(Type.String(), CheckSchema),
});

export const healthPlugin = fp(
  async (app: FastifyInstance) => {
    app.decorate("readiness", new Readiness());

    app.get(
      "/health/live",
      {
        schema: {
          tags: ["health"],
          summary: "The process is up",
          response: { 200: Type.Object({ status: Type.Literal("ok") }) },
        },
        logLevel: "warn",
      },
      async () => ({ status: "ok" as const }),
    );

    app.get(
      "/health/ready",
      {
        schema: {
          tags: ["health"],
          summary: "Every dependency (Postgres, NATS) answers; says which failed",
          response: { 200: ReadySchema, 503: ReadySchema },
        },
        logLevel: "warn",
      },
      async (_request, reply) => {
        // The app's logger, not the request's: this route's logLevel would override LOG_LEVEL.
        const result = await app.readiness.run(app.log);
        return reply
          .status(result.ok ? 200 : 503)
          .send({ status: result.ok ? "ready" : "not_ready", checks: result.checks });
      },
    );
  },
  { name: "health" },
);
