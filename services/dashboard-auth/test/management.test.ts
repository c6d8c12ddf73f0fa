import {
  as,
  buildDashboard,
  email,
  grant,
  isolatedDashboard,
  memberOf,
  organizationAdmin,
  PASSWORD,
  platformOwner,
  post,
  refreshSession,
} from "@ipaas/testing";
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

describe("users, roles, modules and organizations (the seed's examples)", () => {
  let app: FastifyInstance;
  let admin: Awaited<ReturnType<typeof organizationAdmin>>;
  beforeAll(async () => {
    app = await buildDashboard();
    admin = await organizationAdmin(app);
  });
  afterAll(() => app.close());

  it("creates, lists, reads, updates and deletes users", async () => {
    const api = as(app, admin.token);
    const roles = (await api.get("/v1/roles")).json() as Array<{ id: string; role: string }>;
    const adminRole = roles.find((r) => r.role === "Admin");
    const userEmail = email("kayley");
    const created = await api.post("/v1/users", {
      email: userEmail,
      name: "Kayley",
      role_id: adminRole?.id,
      permissions: [grant("users", "r"), grant("roles", "r")],
      password: PASSWORD,
    });
    expect(created.statusCode).toBe(201);
    const body = created.json();
    expect(body).toMatchObject({
      org_id: admin.org.orgId,
      email: userEmail,
      name: "Kayley",
      status: "Active",
      role: "Admin",
    });
    expect(body.user_id).toMatch(/^usr_/);
    expect(body).not.toHaveProperty("password");

    const list = (await api.get("/v1/users?offset=0&limit=10")).json();
    expect(list.map((u: { email: string }) => u.email)).toEqual([admin.org.email, userEmail]);
    expect(list[1].permissions).toEqual([grant("roles", "r"), grant("users", "r")]);
    expect((await api.get("/v1/users?offset=1&limit=1")).json().map((u: { email: string }) => u.email)).toEqual([
      userEmail,
    ]);

    const one = (await api.get(`/v1/users/${body.user_id}`)).json();
    expect(one).toMatchObject({
      user_id: body.user_id,
      org_id: admin.org.orgId,
      role_id: adminRole?.id,
      role: "Admin",
    });
    expect(one.permission).toEqual(one.permissions);

    const updated = await api.put(`/v1/users/${body.user_id}`, { permissions: [grant("users", "ru")] });
    expect(updated.json()).toEqual({ message: `User with id: ${body.user_id} updated successfully` });
    expect((await api.get(`/v1/users/${body.user_id}`)).json().permissions).toEqual([grant("users", "ru")]);

    const renamed = await api.put("/v1/users", { name: "Dario" });
    expect(renamed.json()).toEqual({ message: "User updated successfully" });
    // The name is a claim: the token that carried the old one is stale now, and a refresh brings the new.
    expect((await api.get("/v1/users/profile")).statusCode).toBe(401);
    await refreshSession(app, admin);
    const claims = JSON.parse(Buffer.from(admin.token.split(".")[1] ?? "", "base64url").toString());
    expect(claims.name).toBe("Dario");
    const profileResponse = await as(app, admin.token).get("/v1/users/profile");
    // Personal data: no cache may keep it (finding 13).
    expect(profileResponse.headers["cache-control"]).toBe("no-store");
    const profile = profileResponse.json();
    expect(profile).toMatchObject({ name: "Dario", role: "Super Admin", org_id: admin.org.orgId });
    expect(profile.permission.map((p: { slug: string }) => p.slug)).toEqual(
      expect.arrayContaining(["users", "roles", "organizations"]),
    );

    const removed = await as(app, admin.token).delete(`/v1/users?user_id=${body.user_id}`);
    expect(removed.json()).toEqual({ message: `User(s) with id: ${body.user_id} deleted successfully` });
    expect((await as(app, admin.token).get(`/v1/users/${body.user_id}`)).statusCode).toBe(404);
    expect((await app.db.user.findUniqueOrThrow({ where: { id: body.user_id } })).deletedAt).not.toBeNull();
  });

  it("deletes users as a soft delete that ends their sessions at once, all or nothing", async () => {
    const a = await memberOf(app, admin.token, { permissions: [] });
    const b = await memberOf(app, admin.token, { permissions: [] });
    const api = as(app, admin.token);
    const partial = await api.delete(`/v1/users?user_id=${a.userId}&user_id=usr_nosuchuser`);
    expect(partial.statusCode).toBe(404);
    expect((await post(app, "/v1/auth/verify-token", undefined, a.token)).statusCode).toBe(200);

    const both = await api.delete(`/v1/users?user_id=${a.userId}&user_id=${b.userId}`);
    expect(both.json()).toEqual({ message: `User(s) with id: ${a.userId}, ${b.userId} deleted successfully` });
    expect((await post(app, "/v1/auth/verify-token", undefined, a.token)).statusCode).toBe(401);
    expect((await post(app, "/v1/auth/verify-token", undefined, b.token)).statusCode).toBe(401);
    expect(
      await app.db.auditEvent.count({ where: { action: "user.deleted", targetId: { in: [a.userId, b.userId] } } }),
    ).toBe(2);
  });

  it("manages roles under /roles and /role; system roles and roles in use stay", async () => {
    const api = as(app, admin.token);
    const created = await api.post("/v1/roles", { role: "Tester" });
    expect(created.statusCode).toBe(201);
    const role = created.json();
    expect(role).toMatchObject({
      message: "New role added successfully",
      role: "Tester",
      id: expect.stringMatching(/^rol_/),
    });
    expect((await api.post("/v1/roles", { role: "tester" })).json().code).toBe("ROLE_TAKEN");
    const list = (await api.get("/v1/roles")).json();
    expect(list.map((r: { role: string }) => r.role)).toEqual(["Super Admin", "Admin", "Tester"]);
    expect((await api.get(`/v1/roles/${role.id}`)).json()).toMatchObject({ id: role.id, role: "Tester" });
    expect((await api.get(`/v1/role/${role.id}`)).json()).toMatchObject({ id: role.id, role: "Tester" });

    const system = list.find((r: { role: string }) => r.role === "Admin");
    expect((await api.delete(`/v1/roles?id=${system.id}`)).json().code).toBe("SYSTEM_ROLE");
    const member = await memberOf(app, admin.token, { permissions: [], roleName: "Tester" });
    expect((await api.delete(`/v1/role?id=${role.id}`)).json().code).toBe("ROLE_IN_USE");
    await api.delete(`/v1/users?user_id=${member.userId}`);
    const removed = await api.delete(`/v1/role?id=${role.id}`);
    expect(removed.json()).toEqual({ message: `Role with id(s): ${role.id} deleted successfully` });
    expect((await api.get(`/v1/roles/${role.id}`)).statusCode).toBe(404);
  });

  it("lets only the platform owner manage the module catalogue; slugs are what permissions name", async () => {
    // The catalogue is global: changing it makes every head user's token stale, so this runs apart.
    const own = await isolatedDashboard("ipaas_modules");
    try {
      await manageModules(own.app);
    } finally {
      await own.close();
    }
  });

  async function manageModules(app: FastifyInstance) {
    const admin = await organizationAdmin(app);
    const owner = await platformOwner(app);
    let api = as(app, owner.token);
    const created = await api.post("/v1/modules", { module: `Refund ${Date.now()}` });
    expect(created.statusCode).toBe(201);
    // Head users hold every module, so their tokens' permission lists just changed (finding 7).
    expect((await api.get("/v1/modules")).statusCode).toBe(401);
    expect((await as(app, admin.token).get("/v1/modules")).statusCode).toBe(401);
    await refreshSession(app, owner);
    await refreshSession(app, admin);
    const claims = JSON.parse(Buffer.from(admin.token.split(".")[1] ?? "", "base64url").toString());
    expect(claims.permissions.map((p: { slug: string }) => p.slug)).toContain(created.json().slug);
    api = as(app, owner.token);
    const module = created.json();
    expect(module).toMatchObject({ message: "Module added successfully", slug: expect.stringMatching(/^refund-\d+$/) });
    expect((await api.get("/v1/modules")).json().map((m: { id: string }) => m.id)).toContain(module.id);
    expect((await api.get(`/v1/modules/${module.id}`)).json()).toMatchObject({ id: module.id, module: module.module });
    const renamed = await api.put(`/v1/modules/${module.id}`, { module: "Refunds" });
    expect(renamed.json()).toEqual({ message: `Module with id: ${module.id} updated successfully` });
    expect((await api.get(`/v1/modules/${module.id}`)).json()).toMatchObject({ module: "Refunds", slug: module.slug });

    // An organization's head may read the catalogue but not change it.
    const orgApi = as(app, admin.token);
    expect((await orgApi.get("/v1/modules")).statusCode).toBe(200);
    expect((await orgApi.post("/v1/modules", { module: "Wallets" })).statusCode).toBe(403);
    expect((await orgApi.delete(`/v1/modules?id=${module.id}`)).statusCode).toBe(403);
    expect((await api.delete("/v1/modules?id=mod_platform_users")).json().code).toBe("SYSTEM_MODULE");

    const removed = await api.delete(`/v1/modules?id=${module.id}`);
    expect(removed.json()).toEqual({ message: `Module with id(s): ${module.id} deleted successfully` });
    await refreshSession(app, owner);
    expect((await as(app, owner.token).get(`/v1/modules/${module.id}`)).statusCode).toBe(404);
  }

  it("shows the organization without any secret, and updates it", async () => {
    const api = as(app, admin.token);
    const org = await api.get("/v1/organizations");
    expect(org.statusCode).toBe(200);
    expect(org.json()).toMatchObject({
      org_id: admin.org.orgId,
      company_name: "Biller Company",
      phone: "+919898989812",
      gst: "QW7538R5PC82EDL",
      type: "Biller",
      status: "Active",
      client_key: admin.org.clientKey,
      scopes: "read_bills read_packs",
    });
    expect(org.body).not.toMatch(/secret/i);
    const credential = await app.db.organizationCredential.findUniqueOrThrow({ where: { tenantId: admin.org.orgId } });
    expect(org.body).not.toContain(credential.secretHash);

    const updated = await api.put("/v1/organizations", {
      company_name: "ABC",
      phone: "8989898989",
      scopes: ["read_bills"],
    });
    expect(updated.json()).toEqual({ message: "Organization 'ABC' updated successfully" });
    expect((await api.get("/v1/organizations")).json()).toMatchObject({
      company_name: "ABC",
      phone: "+918989898989",
      scopes: "read_bills",
    });
  });

  it("lists the tenant's audit events, filtered by actor, action and time", async () => {
    const api = as(app, admin.token);
    const all = (await api.get("/v1/audit-events?limit=200")).json();
    expect(all.length).toBeGreaterThan(3);
    expect(all.every((e: { tenant_id: string }) => e.tenant_id === admin.org.orgId)).toBe(true);
    const logins = (await api.get("/v1/audit-events?action=auth.login")).json();
    expect(logins.length).toBeGreaterThan(0);
    expect(logins.every((e: { action: string }) => e.action === "auth.login")).toBe(true);
    const future = (await api.get(`/v1/audit-events?from=${new Date(Date.now() + 60_000).toISOString()}`)).json();
    expect(future).toEqual([]);
    const mine = (await api.get(`/v1/audit-events?actor=${all[0].actor_id}`)).json();
    expect(mine.every((e: { actor_id: string }) => e.actor_id === all[0].actor_id)).toBe(true);
  });
});
