// Per-address request limits shared across instances: with REDIS_URL, two instances of each service count
// one client address together, so the N+1st request in a minute is refused whichever instance it reaches.
// Without Redis each process counts alone (shown too, so the shared case cannot pass by accident). Each
// case uses a client address of its own, so runs and cases never share a counter.
import { randomInt } from "node:crypto";
import { basic, buildApiAuth, buildDashboard, FORM, form, freePort } from "@ipaas/testing";
import type { FastifyInstance } from "fastify";
import { afterAll, describe, expect, it } from "vitest";

const REDIS_URL = process.env.TEST_REDIS_URL ?? process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
const N = 5;

const apps: FastifyInstance[] = [];
afterAll(async () => {
  for (const app of apps) await app.close();
});

async function twoApiAuth(env: Record<string, string>): Promise<FastifyInstance[]> {
  const made = [
    await buildApiAuth({ env, limits: { tokenRequestsPerMinute: N } }),
    await buildApiAuth({ env, limits: { tokenRequestsPerMinute: N } }),
  ];
  apps.push(...made);
  return made;
}

async function twoDashboards(env: Record<string, string>): Promise<FastifyInstance[]> {
  const overrides = { AUTH_RATE_LIMIT_PER_MINUTE: String(N), ...env };
  const made = [await buildDashboard(overrides), await buildDashboard(overrides)];
  apps.push(...made);
  return made;
}

const used = new Set<string>();
/** A client address of this case's own (random, so a run a minute ago left it no count). */
function newAddress(): string {
  for (;;) {
    const address = `10.${randomInt(0, 256)}.${randomInt(0, 256)}.${randomInt(1, 255)}`;
    if (!used.has(address)) {
      used.add(address);
      return address;
    }
  }
}
const tokenRequest = (app: FastifyInstance, address: string) =>
  app.inject({
    method: "POST",
    url: "/v1/auth/token",
    remoteAddress: address,
    headers: { ...FORM, authorization: basic("ck_unknown", "wrong") },
    payload: form({ grant_type: "client_credentials" }),
  });

// A new e-mail each time: the per-account lockout (in Postgres, shared already) must not be what refuses.
const loginRequest = (app: FastifyInstance, address: string) =>
  app.inject({
    method: "POST",
    url: "/v1/auth/login",
    remoteAddress: address,
    payload: { email: `nobody-${randomInt(1e9)}@example.com`, password: "wrong password, long enough" },
  });

/** Sends N+1 requests from one address, alternating between the instances; returns the statuses. */
async function alternate(
  instances: FastifyInstance[],
  send: (app: FastifyInstance, address: string) => Promise<{ statusCode: number }>,
): Promise<number[]> {
  const address = newAddress();
  const statuses: number[] = [];
  for (let i = 0; i <= N; i++) statuses.push((await send(instances[i % 2] as FastifyInstance, address)).statusCode);
  return statuses;
}

describe("per-address limits across instances", () => {
  it(`refuses the ${N + 1}th token request in a minute at either api-auth instance when counted in Redis`, async () => {
    const instances = await twoApiAuth({ REDIS_URL });
    const statuses = await alternate(instances, tokenRequest);
    expect(statuses.slice(0, N).every((s) => s === 401)).toBe(true);
    expect(statuses[N]).toBe(429);
    // And the other instance, asked next, refuses too: the count is one.
    const address = newAddress();
    for (let i = 0; i < N; i++) await tokenRequest(instances[0] as FastifyInstance, address);
    expect((await tokenRequest(instances[1] as FastifyInstance, address)).statusCode).toBe(429);
  });

  it(`refuses the ${N + 1}th login in a minute at either dashboard-auth instance when counted in Redis`, async () => {
    const instances = await twoDashboards({ REDIS_URL });
    const address = newAddress();
    const answers = [];
    for (let i = 0; i <= N; i++) answers.push(await loginRequest(instances[i % 2] as FastifyInstance, address));
    expect(answers.slice(0, N).every((res) => res.statusCode === 401)).toBe(true);
    expect(answers[N]?.statusCode).toBe(429);
    expect(answers[N]?.json()).toMatchObject({ code: "RATE_LIMITED" });
  });

  it("counts in each process alone without Redis: the same traffic passes", async () => {
    const instances = await twoApiAuth({});
    expect(await alternate(instances, tokenRequest)).not.toContain(429);
    const dashboards = await twoDashboards({});
    expect(await alternate(dashboards, loginRequest)).not.toContain(429);
  });

  it("refuses with 503, never lets a request through uncounted, while Redis cannot be reached", async () => {
    const nowhere = `redis://127.0.0.1:${await freePort()}`;
    const [api] = await twoApiAuth({ REDIS_URL: nowhere });
    const token = await tokenRequest(api as FastifyInstance, newAddress());
    expect(token.statusCode).toBe(503);
    expect(token.json()).toMatchObject({ error: "temporarily_unavailable" });
    const [dashboard] = await twoDashboards({ REDIS_URL: nowhere });
    const login = await loginRequest(dashboard as FastifyInstance, newAddress());
    expect(login.statusCode).toBe(503);
    expect(login.headers["content-type"]).toMatch(/^application\/problem\+json/);
    const ready = await (dashboard as FastifyInstance).inject({ method: "GET", url: "/health/ready" });
    expect(ready.statusCode).toBe(503);
    expect(ready.json().checks.redis).toMatchObject({ ok: false, detail: "unreachable" });
  });
});
