// Secure by default: every route is public by being on one visible list, or guarded by the access it
// declares. Walks the whole route table and calls each route as a stranger and as a user holding nothing.
import { serverOptions } from "@ipaas/service-kit";
import { as, memberOf, organizationAdmin, testConfig } from "@ipaas/testing";
import Fastify, { type FastifyInstance, type RouteOptions } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { guardRoutes, PUBLIC_ROUTES } from "../src/access/guard";
import app, { SERVICE } from "../src/app";
import { dashboardConfig } from "../src/config";

/** A concrete path for a route pattern: every parameter gets an id that names nothing. */
function concrete(url: string): string {
  return url.replace(/:[A-Za-z_]+/g, "x_doesnotexist");
}

describe("route guard", () => {
  let dashboard: FastifyInstance;
  const routes: RouteOptions[] = [];
  beforeAll(async () => {
    const config = testConfig(
      { AUTH_RATE_LIMIT_PER_MINUTE: "100000", BANK_REGISTRATION: "open" },
      dashboardConfig.load,
    );
    dashboard = Fastify(serverOptions(config, SERVICE));
    dashboard.addHook("onRoute", (route) => {
      routes.push(route);
    });
    await dashboard.register(app, { config });
    await dashboard.ready();
  });
  afterAll(() => dashboard.close());

  const api = () =>
    routes
      .filter((r) => r.url.startsWith("/v1/"))
      .flatMap((r) => (Array.isArray(r.method) ? r.method : [r.method]).map((method) => ({ method, route: r })))
      .filter(({ method }) => method !== "HEAD");

  it("knows every route: public by the list, or guarded by a declared access", () => {
    expect(api().length).toBeGreaterThan(30);
    for (const { method, route } of api()) {
      const key = `${method} ${route.url}`;
      if (PUBLIC_ROUTES.has(key)) expect(route.config?.access, key).toBeUndefined();
      else expect(route.config?.access, key).toBeDefined();
    }
    // Every public entry names a real route, so the list cannot drift into naming nothing.
    const keys = new Set(api().map(({ method, route }) => `${method} ${route.url}`));
    for (const entry of PUBLIC_ROUTES) expect(keys.has(entry), entry).toBe(true);
  });

  it("answers every guarded route 401 without a token, and 403 to a user without the permission", async () => {
    const admin = await organizationAdmin(dashboard);
    const nobody = await memberOf(dashboard, admin.token, { permissions: [] });
    for (const { method, route } of api()) {
      const key = `${method} ${route.url}`;
      if (PUBLIC_ROUTES.has(key)) continue;
      const url = concrete(route.url);
      const stranger = await dashboard.inject({ method, url });
      expect(stranger.statusCode, key).toBe(401);
      const access = route.config?.access;
      if (access === undefined || access === "signed-in") continue;
      const holdsNothing = await dashboard.inject({
        method,
        url,
        headers: { authorization: `Bearer ${nobody.token}` },
      });
      expect(holdsNothing.statusCode, key).toBe(403);
    }
    // The member is real and signed in: the signed-in routes answer them.
    expect((await as(dashboard, nobody.token).get("/v1/users/profile")).statusCode).toBe(200);
  });

  it("refuses to start when a route is neither public nor declares its access", async () => {
    const bare = Fastify();
    bare.decorate("authenticate", async () => undefined);
    bare.decorate("authorize", () => async () => undefined);
    guardRoutes(bare, new Set(["GET /open"]));
    bare.get("/open", async () => "ok");
    expect(() => bare.get("/forgotten", async () => "oops")).toThrow(/declares no config.access/);
    expect(() => bare.get("/open-and-guarded", { config: { access: "signed-in" } }, async () => "x")).not.toThrow();
    await bare.close();
  });
});
