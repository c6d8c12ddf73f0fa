import type { FastifyInstance } from "fastify";
import fp from "fastify-plugin";
import Type from "typebox";

export interface CheckResult {
  ok: boolean;
  detail: string;
}
export type ReadinessCheck = () => Promise<CheckResult> | CheckResult;

/** What the service depends on; `/health/ready` runs every registered check. */
export class Readiness {
  readonly #checks = new Map<string, ReadinessCheck>();

  add(name: string, check: ReadinessCheck): void {
    this.#checks.set(name, check);
  }

  async run(timeoutMs = 2_000): Promise<{ ok: boolean; checks: Record<string, CheckResult> }> {
    const entries = await Promise.all(
      [...this.#checks].map(async ([name, check]) => {
        let timer: NodeJS.Timeout | undefined;
        const timeout = new Promise<CheckResult>((resolve) => {
          timer = setTimeout(() => resolve({ ok: false, detail: `no answer within ${timeoutMs} ms` }), timeoutMs);
        });
        try {
          const result = await Promise.race([Promise.resolve().then(check), timeout]);
          return [name, result] as const;
        } catch (error) {
          return [name, { ok: false, detail: (error as Error).message }] as const;
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
        const result = await app.readiness.run();
        return reply
          .status(result.ok ? 200 : 503)
          .send({ status: result.ok ? "ready" : "not_ready", checks: result.checks });
      },
    );
  },
  { name: "health" },
);
