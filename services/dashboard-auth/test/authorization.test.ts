import { newId } from "@ipaas/domain";
import {
  as,
  bankAdmin,
  bodyWithoutRequestId,
  DOMAIN_TABLES,
  email,
  grant,
  isolatedDashboard,
  loginAs,
  memberOf,
  organizationAdmin,
  PASSWORD,
  platformOwner,
  post,
  registerBank,
  registerOrganization,
  tableFingerprint,
} from "@ipaas/testing";
import fc from "fast-check";
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ACTIONS, type Actor, can, canGrant, type Grants, reaches, type TenantRef } from "../src/access/access";

describe("authorization: security", () => {
  let app: FastifyInstance;
  let close: () => Promise<void>;
  let orgA: Awaited<ReturnType<typeof organizationAdmin>>;
  let orgB: Awaited<ReturnType<typeof organizationAdmin>>;
  beforeAll(async () => {
    ({ app, close } = await isolatedDashboard("ipaas_authz"));
    orgA = await organizationAdmin(app);
    orgB = await organizationAdmin(app);
  });
  afterAll(() => close());

  it("answers 404 for another tenant's users, roles and organization, and never crosses", async () => {
    const a = as(app, orgA.token);
    const bUser = orgB.org.userId;
    const bRoles = (await as(app, orgB.token).get("/v1/roles")).json() as Array<{ id: string }>;
    expect((await a.get(`/v1/users/${bUser}`)).statusCode).toBe(404);
    expect((await a.put(`/v1/users/${bUser}`, { permissions: [] })).statusCode).toBe(404);
    expect((await a.delete(`/v1/users?user_id=${bUser}`)).statusCode).toBe(404);
    expect((await a.get(`/v1/users?tenant_id=${orgB.org.orgId}`)).statusCode).toBe(404);
    expect((await a.get(`/v1/roles/${bRoles[0]?.id}`)).statusCode).toBe(404);
    expect((await a.delete(`/v1/roles?id=${bRoles[0]?.id}`)).statusCode).toBe(404);
    expect((await a.get(`/v1/organizations?org_id=${orgB.org.orgId}`)).statusCode).toBe(404);
    expect((await a.put(`/v1/organizations?org_id=${orgB.org.orgId}`, { company_name: "pwned" })).statusCode).toBe(404);
    expect((await a.get(`/v1/audit-events?tenant_id=${orgB.org.orgId}`)).statusCode).toBe(404);
    expect((await app.db.user.findUniqueOrThrow({ where: { id: bUser } })).deletedAt).toBeNull();
    // Unknown and other-tenant ids are indistinguishable.
    const unknown = await a.get("/v1/users/usr_doesnotexist");
    const other = await a.get(`/v1/users/${bUser}`);
    expect(unknown.json().code).toBe(other.json().code);
  });

  it("lets a bank read, and only read, the organizations under it", async () => {
    const bank = await bankAdmin(app);
    const own = await organizationAdmin(app, { bankId: bank.bank.bankId });
    const api = as(app, bank.token);
    expect((await api.get(`/v1/organizations?org_id=${own.org.orgId}`)).json().org_id).toBe(own.org.orgId);
    expect((await api.get(`/v1/organizations?org_id=${orgA.org.orgId}`)).statusCode).toBe(404);
    expect((await api.put(`/v1/organizations?org_id=${own.org.orgId}`, { company_name: "x" })).statusCode).toBe(404);
    expect((await api.delete(`/v1/organizations?org_id=${own.org.orgId}`)).statusCode).toBe(404);
  });

  it("lets the platform owner act on any tenant", async () => {
    const owner = await platformOwner(app);
    const api = as(app, owner.token);
    expect((await api.get(`/v1/users?tenant_id=${orgA.org.orgId}`)).json().length).toBeGreaterThan(0);
    const org = await api.get(`/v1/organizations?org_id=${orgA.org.orgId}`);
    expect(org.statusCode).toBe(200);
  });

  it("refuses granting more than one holds, and a role above one's own", async () => {
    const lead = await memberOf(app, orgA.token, { permissions: [grant("users", "rcu"), grant("roles", "r")] });
    const api = as(app, lead.token);
    const roles = (await api.get("/v1/roles")).json() as Array<{ id: string; role: string }>;
    const adminRole = roles.find((r) => r.role === "Admin")?.id;
    const superAdmin = roles.find((r) => r.role === "Super Admin")?.id;
    const base = { name: "X", password: "long enough passphrase", role_id: adminRole };
    const more = await api.post("/v1/users", {
      ...base,
      email: `a${Date.now()}@example.test`,
      permissions: [grant("users", "rcud")],
    });
    expect(more.statusCode).toBe(403);
    const otherModule = await api.post("/v1/users", {
      ...base,
      email: `b${Date.now()}@example.test`,
      permissions: [grant("organizations", "r")],
    });
    expect(otherModule.statusCode).toBe(403);
    const above = await api.post("/v1/users", {
      ...base,
      role_id: superAdmin,
      email: `c${Date.now()}@example.test`,
      permissions: [],
    });
    expect(above.statusCode).toBe(403);
    const within = await api.post("/v1/users", {
      ...base,
      email: `d${Date.now()}@example.test`,
      permissions: [grant("users", "r")],
    });
    expect(within.statusCode).toBe(201);
  });

  it("refuses changing one's own role and setting fields outside the schema", async () => {
    const lead = await memberOf(app, orgA.token, { permissions: [grant("users", "ru"), grant("roles", "r")] });
    const api = as(app, lead.token);
    const custom = (await as(app, orgA.token).post("/v1/roles", { role: `Viewer ${Date.now()}` })).json();
    expect((await api.put(`/v1/users/${lead.userId}`, { role_id: custom.id })).statusCode).toBe(403);
    for (const hidden of [
      { tenantId: orgB.org.orgId },
      { internal: true },
      { head: true },
      { org_id: orgB.org.orgId },
    ]) {
      const res = await api.put(`/v1/users/${lead.userId}`, { permissions: [], ...hidden });
      expect(res.statusCode, JSON.stringify(hidden)).toBe(400);
    }
    const user = await app.db.user.findUniqueOrThrow({ where: { id: lead.userId } });
    expect(user).toMatchObject({ tenantId: orgA.org.orgId, internal: false, head: false });
  });

  it("refuses an organization widening its own scopes or lifting its own status", async () => {
    const api = as(app, orgA.token);
    expect((await api.put("/v1/organizations", { scopes: ["read_bills", "payments:write"] })).statusCode).toBe(403);
    expect((await api.put("/v1/organizations", { status: "Suspended" })).statusCode).toBe(403);
    const owner = await platformOwner(app);
    const widen = () =>
      as(app, owner.token).put(`/v1/organizations?org_id=${orgA.org.orgId}`, {
        scopes: ["read_bills", "payments:write"],
      });
    // Not even the platform owner grants a scope outside the catalogue (review finding 1).
    const outside = await widen();
    expect(outside.statusCode).toBe(400);
    expect(outside.json()).toMatchObject({
      code: "SCOPES_NOT_ALLOWED",
      detail: expect.stringContaining("payments:write"),
    });
    const added = await as(app, owner.token).post("/v1/scopes", { name: "payments:write", description: "Pay bills" });
    expect(added.statusCode).toBe(201);
    expect((await widen()).statusCode).toBe(200);
  });

  it("lets only a strictly higher rank change a user: equal-rank admins cannot strip, disable or delete each other (finding 5)", async () => {
    const powers = [grant("users", "rud")];
    const first = await memberOf(app, orgA.token, { permissions: powers });
    const second = await memberOf(app, orgA.token, { permissions: powers });
    const api = as(app, first.token);
    for (const change of [{ permissions: [] }, { status: "Disabled" }]) {
      const res = await api.put(`/v1/users/${second.userId}`, change);
      expect(res.statusCode).toBe(403);
    }
    expect((await api.delete(`/v1/users?user_id=${second.userId}`)).statusCode).toBe(403);
    const untouched = await app.db.user.findUniqueOrThrow({
      where: { id: second.userId },
      include: { permissions: true },
    });
    expect(untouched.status).toBe("ACTIVE");
    expect(untouched.deletedAt).toBeNull();
    expect(untouched.permissions).toHaveLength(1);
  });

  it("lets nobody take away a grant they do not hold themselves (finding 5)", async () => {
    await as(app, orgA.token).post("/v1/roles", { role: `Clerk ${Date.now()}` });
    const roles = (await as(app, orgA.token).get("/v1/roles")).json() as Array<{ id: string; role: string }>;
    const clerk = roles.find((r) => r.role.startsWith("Clerk"))?.role ?? "";
    const deputy = await memberOf(app, orgA.token, { permissions: [grant("users", "ru")] });
    const clerkUser = await memberOf(app, orgA.token, {
      roleName: clerk,
      permissions: [grant("users", "r"), grant("roles", "rcud")],
    });
    const api = as(app, deputy.token);
    // Dropping roles:rcud, which the deputy does not hold, is refused; keeping it is allowed.
    const strip = await api.put(`/v1/users/${clerkUser.userId}`, { permissions: [grant("users", "r")] });
    expect(strip.statusCode).toBe(403);
    const keep = await api.put(`/v1/users/${clerkUser.userId}`, { permissions: [grant("roles", "rcud")] });
    expect(keep.statusCode).toBe(200);
  });

  it("applies a permission revocation to tokens already issued", async () => {
    const reader = await memberOf(app, orgA.token, { permissions: [grant("users", "r")] });
    expect((await as(app, reader.token).get("/v1/users")).statusCode).toBe(200);
    await as(app, orgA.token).put(`/v1/users/${reader.userId}`, { permissions: [] });
    // The token issued before the change carries the old permissions: it is refused outright (finding 7).
    const stale = await as(app, reader.token).get("/v1/users");
    expect(stale.statusCode).toBe(401);
    const refreshed = await post(app, "/v1/auth/refresh", { refreshToken: reader.refreshToken });
    expect(refreshed.statusCode).toBe(200);
    const fresh = refreshed.json() as { token: string };
    const claims = JSON.parse(Buffer.from(fresh.token.split(".")[1] ?? "", "base64url").toString()) as {
      permissions: unknown[];
    };
    expect(claims.permissions).toEqual([]);
    const after = await as(app, fresh.token).get("/v1/users");
    expect(after.statusCode).toBe(403);
    const denied = await app.db.auditEvent.findFirst({ where: { actorId: reader.userId, action: "authz.denied" } });
    expect(denied?.details).toMatchObject({ module: "users", action: "read" });
  });

  it("ends a disabled user's sessions at once", async () => {
    const member = await memberOf(app, orgA.token, { permissions: [grant("users", "r")] });
    await as(app, orgA.token).put(`/v1/users/${member.userId}`, { status: "Disabled" });
    expect((await post(app, "/v1/auth/verify-token", undefined, member.token)).statusCode).toBe(401);
  });

  it("ends every session of a disabled user at once: each access token and each refresh token", async () => {
    const member = await memberOf(app, orgA.token, { permissions: [grant("users", "r")] });
    const sessions = [member, await loginAs(app, member.user), await loginAs(app, member.user)];
    // Each session used first, so this instance holds it in memory when the change comes.
    for (const session of sessions) {
      expect((await post(app, "/v1/auth/verify-token", undefined, session.token)).statusCode).toBe(200);
    }
    const refused = async (when: string) => {
      for (const [i, session] of sessions.entries()) {
        const what = `session ${i + 1} of 3, ${when}`;
        expect((await post(app, "/v1/auth/verify-token", undefined, session.token)).statusCode, what).toBe(401);
        expect((await as(app, session.token).get("/v1/users")).statusCode, what).toBe(401);
        const refreshed = await post(app, "/v1/auth/refresh", { refreshToken: session.refreshToken });
        expect(refreshed.statusCode, what).toBe(401);
        expect(refreshed.json().code).toBe("INVALID_REFRESH_TOKEN");
      }
    };

    expect((await as(app, orgA.token).put(`/v1/users/${member.userId}`, { status: "Disabled" })).statusCode).toBe(200);
    await refused("right after the disable");
    const rows = await app.db.session.findMany({ where: { userId: member.userId } });
    expect(rows.map((r) => [r.endedAt !== null, r.endReason])).toEqual(sessions.map(() => [true, "disabled"]));
    // Ended, not paused: enabling the user again brings none of them back.
    expect((await as(app, orgA.token).put(`/v1/users/${member.userId}`, { status: "Active" })).statusCode).toBe(200);
    await refused("after enabling the user again");
  });

  it("keeps the tenant's last Super Admin from being deleted or demoted", async () => {
    const solo = await organizationAdmin(app);
    const api = as(app, solo.token);
    const admin = (await api.get("/v1/roles")).json().find((r: { role: string }) => r.role === "Admin");
    const deputy = await memberOf(app, solo.token, { permissions: [grant("users", "rud")] });
    expect((await api.delete(`/v1/users?user_id=${solo.org.userId}`)).json().code).toBe("LAST_TOP_ROLE_HOLDER");
    expect((await as(app, deputy.token).put(`/v1/users/${solo.org.userId}`, { role_id: admin.id })).statusCode).toBe(
      403,
    );
    expect((await as(app, deputy.token).delete(`/v1/users?user_id=${solo.org.userId}`)).statusCode).toBe(403);
    const owner = await platformOwner(app);
    const demote = await as(app, owner.token).put(`/v1/users/${solo.org.userId}`, { role_id: admin.id });
    expect(demote.json().code).toBe("LAST_TOP_ROLE_HOLDER");
  });

  it("soft-deletes an organization, ending its users' sessions at once", async () => {
    const doomed = await organizationAdmin(app);
    const member = await memberOf(app, doomed.token, { permissions: [grant("users", "r")] });
    const res = await as(app, doomed.token).delete("/v1/organizations");
    expect(res.json()).toEqual({ message: `Organization with id: ${doomed.org.orgId} deleted successfully` });
    expect((await post(app, "/v1/auth/verify-token", undefined, doomed.token)).statusCode).toBe(401);
    expect((await post(app, "/v1/auth/verify-token", undefined, member.token)).statusCode).toBe(401);
    expect((await app.db.tenant.findUniqueOrThrow({ where: { id: doomed.org.orgId } })).deletedAt).not.toBeNull();
  });
});

/**
 * The rules, written a second time as plainly as possible. The property tests draw actors, tenants,
 * grants and targets and require the service's decisions to match this model everywhere.
 */
const model = {
  allowed(
    actor: { kind: string; internal: boolean; head: boolean; grants: Record<string, string> },
    module: string,
    action: string,
  ) {
    return actor.head || (actor.grants[module] ?? "").includes(action[0] ?? "?");
  },
  reaches(
    actor: { tenantId: string; kind: string; internal: boolean },
    target: { id: string; kind: string; bankId: string | null },
    action: string,
  ) {
    if (actor.tenantId === target.id) return true;
    if (actor.kind === "MAIN" && actor.internal) return true;
    return (
      actor.kind === "BANK" && target.kind === "ORGANIZATION" && target.bankId === actor.tenantId && action === "read"
    );
  },
};

describe("authorization: property tests against a reference model", () => {
  const tenants: TenantRef[] = [
    { id: "main_1", kind: "MAIN", bankId: null },
    { id: "bnk_1", kind: "BANK", bankId: null },
    { id: "bnk_2", kind: "BANK", bankId: null },
    { id: "org_1", kind: "ORGANIZATION", bankId: "bnk_1" },
    { id: "org_2", kind: "ORGANIZATION", bankId: "bnk_1" },
    { id: "org_3", kind: "ORGANIZATION", bankId: "bnk_2" },
  ];
  const modules = ["users", "roles", "modules", "organizations", "audit-events", "wallets"];
  const grantsArb = fc.dictionary(
    fc.constantFrom(...modules),
    fc.subarray(["r", "c", "u", "d"]).map((a) => a.join("")),
  );
  const actorArb = fc.record({
    tenant: fc.constantFrom(...tenants),
    head: fc.boolean(),
    grants: grantsArb,
  });
  function toActor(a: { tenant: TenantRef; head: boolean; grants: Record<string, string> }): Actor {
    const grants = new Map<string, Grants>();
    for (const [slug, flags] of Object.entries(a.grants)) {
      grants.set(slug, {
        read: flags.includes("r"),
        create: flags.includes("c"),
        update: flags.includes("u"),
        delete: flags.includes("d"),
      });
    }
    return {
      userId: "usr_x",
      tenant: a.tenant,
      head: a.head,
      internal: a.tenant.kind === "MAIN",
      roleRank: 10,
      grants,
    };
  }

  it("function and object level decisions match the model, and cross-tenant access only goes down the hierarchy", () => {
    fc.assert(
      fc.property(
        actorArb,
        fc.constantFrom(...modules),
        fc.constantFrom(...ACTIONS),
        fc.constantFrom(...tenants),
        (a, module, action, target) => {
          const actor = toActor(a);
          const m = {
            tenantId: a.tenant.id,
            kind: a.tenant.kind,
            internal: a.tenant.kind === "MAIN",
            head: a.head,
            grants: a.grants,
          };
          expect(can(actor, module, action)).toBe(model.allowed(m, module, action));
          expect(reaches(actor, target, action)).toBe(model.reaches(m, target, action));
          // Nobody below the platform owner reaches upward or sideways.
          if (a.tenant.kind === "ORGANIZATION" && target.id !== a.tenant.id)
            expect(reaches(actor, target, action)).toBe(false);
          if (a.tenant.kind === "BANK" && target.kind !== "ORGANIZATION" && target.id !== a.tenant.id) {
            expect(reaches(actor, target, action)).toBe(false);
          }
        },
      ),
      { numRuns: 2000 },
    );
  });

  it("nobody grants a flag they do not hold", () => {
    fc.assert(
      fc.property(actorArb, fc.constantFrom(...modules), fc.subarray(["r", "c", "u", "d"]), (a, module, wanted) => {
        const actor = toActor(a);
        const flags = {
          read: wanted.includes("r"),
          create: wanted.includes("c"),
          update: wanted.includes("u"),
          delete: wanted.includes("d"),
        };
        const held = a.grants[module] ?? "";
        const expected = a.head || wanted.every((w) => held.includes(w));
        expect(canGrant(actor, module, flags)).toBe(expected);
      }),
      { numRuns: 2000 },
    );
  });
});

describe("authorization: property test over HTTP", () => {
  let app: FastifyInstance;
  let close: () => Promise<void>;
  type Person = { token: string; tenant: TenantRef; head: boolean; grants: Record<string, string>; userId: string };
  const people: Person[] = [];
  let orgs: TenantRef[] = [];

  beforeAll(async () => {
    ({ app, close } = await isolatedDashboard("ipaas_authz"));
    const owner = await platformOwner(app);
    const bank1 = await bankAdmin(app);
    const bank2 = await bankAdmin(app);
    const org1 = await organizationAdmin(app, { bankId: bank1.bank.bankId });
    const org2 = await organizationAdmin(app, { bankId: bank2.bank.bankId });
    const mainT: TenantRef = { id: owner.tenantId, kind: "MAIN", bankId: null };
    const b1: TenantRef = { id: bank1.bank.bankId, kind: "BANK", bankId: null };
    const b2: TenantRef = { id: bank2.bank.bankId, kind: "BANK", bankId: null };
    const o1: TenantRef = { id: org1.org.orgId, kind: "ORGANIZATION", bankId: b1.id };
    const o2: TenantRef = { id: org2.org.orgId, kind: "ORGANIZATION", bankId: b2.id };
    orgs = [o1, o2];
    const id = async (email: string) => (await app.db.user.findUniqueOrThrow({ where: { email } })).id;
    people.push(
      { token: owner.token, tenant: mainT, head: true, grants: {}, userId: await id(owner.email) },
      { token: bank1.token, tenant: b1, head: true, grants: {}, userId: await id(bank1.bank.email) },
      { token: bank2.token, tenant: b2, head: true, grants: {}, userId: await id(bank2.bank.email) },
      { token: org1.token, tenant: o1, head: true, grants: {}, userId: org1.org.userId },
      { token: org2.token, tenant: o2, head: true, grants: {}, userId: org2.org.userId },
    );
    const memberGrants: Array<[Person, Record<string, string>]> = [
      [people[0] as Person, { users: "r", organizations: "r", "audit-events": "r" }],
      [people[1] as Person, { organizations: "r", roles: "r" }],
      [people[3] as Person, { users: "ru", roles: "r" }],
      [people[3] as Person, { "audit-events": "r" }],
      [people[4] as Person, { users: "r", organizations: "ru" }],
    ];
    for (const [head, grants] of memberGrants) {
      const m = await memberOf(app, head.token, {
        permissions: Object.entries(grants).map(([slug, flags]) => grant(slug, flags)),
      });
      people.push({ token: m.token, tenant: head.tenant, head: false, grants, userId: m.userId });
    }
  }, 60_000);
  afterAll(() => close());

  it("every drawn request is decided as the model says, cross-tenant attempts included", async () => {
    const ops = [
      {
        module: "users",
        action: "read",
        request: (t: TenantRef) => ({ method: "GET" as const, url: `/v1/users?tenant_id=${t.id}` }),
      },
      {
        module: "roles",
        action: "read",
        request: (t: TenantRef) => ({ method: "GET" as const, url: `/v1/roles?tenant_id=${t.id}` }),
      },
      {
        module: "audit-events",
        action: "read",
        request: (t: TenantRef) => ({ method: "GET" as const, url: `/v1/audit-events?tenant_id=${t.id}&limit=1` }),
      },
      {
        module: "organizations",
        action: "read",
        request: (t: TenantRef) => ({ method: "GET" as const, url: `/v1/organizations?org_id=${t.id}` }),
        orgOnly: true,
      },
      {
        module: "organizations",
        action: "update",
        request: (t: TenantRef) => ({
          method: "PUT" as const,
          url: `/v1/organizations?org_id=${t.id}`,
          payload: { phone: "9898989812" },
        }),
        orgOnly: true,
      },
    ];
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...people),
        fc.constantFrom(...ops),
        fc.constantFrom(...people.map((p) => p.tenant)),
        async (person, op, tenant) => {
          const target = op.orgOnly ? (orgs.find((o) => o.id === tenant.id) ?? orgs[0]) : tenant;
          if (!target) return;
          const { method, url, payload } = { payload: undefined, ...op.request(target) };
          const res = await app.inject({
            method,
            url,
            ...(payload ? { payload } : {}),
            headers: { authorization: `Bearer ${person.token}` },
          });
          const m = {
            tenantId: person.tenant.id,
            kind: person.tenant.kind,
            internal: person.tenant.kind === "MAIN",
            head: person.head,
            grants: person.grants,
          };
          const expected = !model.allowed(m, op.module, op.action)
            ? 403
            : !model.reaches(m, target, op.action)
              ? 404
              : 200;
          expect(res.statusCode, `${person.tenant.kind}${person.head ? " head" : ""} ${method} ${url}`).toBe(expected);
        },
      ),
      { numRuns: 250 },
    );
  }, 60_000);
});

/** What changes whatever a request asked: a session's use, and the outbox relay's progress. */
const BOOKKEEPING = ["lastSeenAt", "idleExpiresAt", "publishedAt", "attempts", "lastError", "parkedAt"];

/** Each table's rows, as one digest per table. */
const fingerprint = (app: FastifyInstance) => tableFingerprint(app.db, DOMAIN_TABLES, BOOKKEEPING);

describe("authorization: other tenants' real ids", () => {
  let app: FastifyInstance;
  let close: () => Promise<void>;
  type Kind = "user" | "role" | "tenant" | "organization" | "bank" | "module";
  /** Something an id names, and the tenant that owns it (none for the platform's module catalogue). */
  type Target = { kind: Kind; id: string; owner: TenantRef | null };
  /** A tenant's head admin, with a member and a custom role of its own. */
  type Admin = { name: string; token: string; tenant: TenantRef; member: string; role: string };
  const admins: Admin[] = [];
  const targets: Target[] = [];
  /** The Admin role of each tenant: what a user created in it is given. */
  const adminRoleOf = new Map<string, string>();

  beforeAll(async () => {
    ({ app, close } = await isolatedDashboard("ipaas_authz"));
    const bank1 = await bankAdmin(app);
    const org1 = await organizationAdmin(app, { bankId: bank1.bank.bankId });
    // Beside org1 under the same bank: a sibling for org1, one of its own organizations for bank1.
    const sibling = await organizationAdmin(app, { bankId: bank1.bank.bankId });
    const bank2 = await bankAdmin(app);
    const org2 = await organizationAdmin(app, { bankId: bank2.bank.bankId });
    // Waiting for approval: an approval that crossed tenants would change their status.
    const pendingOrg = await registerOrganization(app, { bankId: bank2.bank.bankId });
    const pendingBank = await registerBank(app);
    // Above every bank and organization: the platform owner's tenant.
    await platformOwner(app);
    await app.db.tenant.updateMany({
      where: { id: { in: [pendingOrg.orgId, pendingBank.bankId] } },
      data: { status: "PENDING" },
    });

    const heads = [
      { name: "bank1", token: bank1.token, tenantId: bank1.bank.bankId },
      { name: "org1", token: org1.token, tenantId: org1.org.orgId },
      { name: "sibling", token: sibling.token, tenantId: sibling.org.orgId },
      { name: "bank2", token: bank2.token, tenantId: bank2.bank.bankId },
      { name: "org2", token: org2.token, tenantId: org2.org.orgId },
    ];
    for (const head of heads) {
      const api = as(app, head.token);
      const roles = (await api.get("/v1/roles")).json() as Array<{ id: string; role: string }>;
      const adminRole = roles.find((r) => r.role === "Admin")?.id ?? "";
      adminRoleOf.set(head.tenantId, adminRole);
      const member = await api.post("/v1/users", {
        email: email("member"),
        name: "Member",
        role_id: adminRole,
        permissions: [],
        password: PASSWORD,
      });
      const role = await api.post("/v1/roles", { role: "Clerk" });
      if (member.statusCode !== 201 || role.statusCode !== 201) throw new Error(`set-up: ${member.body} ${role.body}`);
      const tenant = await app.db.tenant.findUniqueOrThrow({ where: { id: head.tenantId } });
      if (head.name === "bank1" || head.name === "org1") {
        admins.push({
          name: head.name,
          token: head.token,
          tenant: { id: tenant.id, kind: tenant.kind, bankId: tenant.bankId },
          member: member.json().user_id,
          role: role.json().id,
        });
      }
    }

    const tenants = await app.db.tenant.findMany({
      include: {
        // Members and custom roles first: a write that crossed would succeed on them, where a head user or a
        // system role might be refused for its own reasons.
        users: { orderBy: { head: "asc" } },
        roles: { orderBy: { rank: "desc" } },
      },
    });
    for (const tenant of tenants) {
      const owner: TenantRef = { id: tenant.id, kind: tenant.kind, bankId: tenant.bankId };
      for (const user of tenant.users) targets.push({ kind: "user", id: user.id, owner });
      for (const role of tenant.roles) targets.push({ kind: "role", id: role.id, owner });
      targets.push({ kind: "tenant", id: tenant.id, owner });
      if (tenant.kind === "ORGANIZATION") targets.push({ kind: "organization", id: tenant.id, owner });
      if (tenant.kind === "BANK") targets.push({ kind: "bank", id: tenant.id, owner });
    }
    for (const module of await app.db.module.findMany({ where: { deletedAt: null } })) {
      targets.push({ kind: "module", id: module.id, owner: null });
    }
  }, 60_000);
  afterAll(() => close());

  type Request = { method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE"; url: string; payload?: object };
  interface Route {
    route: string;
    /** What the id names. */
    kind: Kind;
    action: "read" | "create" | "update" | "delete";
    /** The answer to an id out of reach: the same as to an id that does not exist. */
    refusedWith: 400 | 403 | 404;
    /** The id goes in the body, where it must name something of the caller's own tenant. */
    inBody?: boolean;
    request(id: string, admin: Admin): Request;
  }
  const newUser = (admin: Admin) => ({
    email: email("crossed"),
    name: "Crossed",
    permissions: [],
    password: PASSWORD,
    role_id: adminRoleOf.get(admin.tenant.id),
  });
  const routes: Route[] = [
    {
      route: "GET /v1/users/{user_id}",
      kind: "user",
      action: "read",
      refusedWith: 404,
      request: (id) => ({ method: "GET", url: `/v1/users/${id}` }),
    },
    {
      route: "PUT /v1/users/{user_id}",
      kind: "user",
      action: "update",
      refusedWith: 404,
      request: (id) => ({ method: "PUT", url: `/v1/users/${id}`, payload: { status: "Disabled", permissions: [] } }),
    },
    {
      route: "DELETE /v1/users (one's own member and the id)",
      kind: "user",
      action: "delete",
      refusedWith: 404,
      request: (id, admin) => ({ method: "DELETE", url: `/v1/users?user_id=${admin.member}&user_id=${id}` }),
    },
    {
      route: "GET /v1/users?tenant_id=",
      kind: "tenant",
      action: "read",
      refusedWith: 404,
      request: (id) => ({ method: "GET", url: `/v1/users?tenant_id=${id}` }),
    },
    {
      route: "POST /v1/users?tenant_id=",
      kind: "tenant",
      action: "create",
      refusedWith: 404,
      request: (id, admin) => ({
        method: "POST",
        url: `/v1/users?tenant_id=${id}`,
        payload: { ...newUser(admin), role_id: adminRoleOf.get(id) ?? adminRoleOf.get(admin.tenant.id) },
      }),
    },
    {
      route: "POST /v1/users { role_id }",
      kind: "role",
      action: "create",
      refusedWith: 400,
      inBody: true,
      request: (id, admin) => ({ method: "POST", url: "/v1/users", payload: { ...newUser(admin), role_id: id } }),
    },
    {
      route: "PUT /v1/users/{one's own member} { role_id }",
      kind: "role",
      action: "update",
      refusedWith: 400,
      inBody: true,
      request: (id, admin) => ({ method: "PUT", url: `/v1/users/${admin.member}`, payload: { role_id: id } }),
    },
    {
      route: "GET /v1/roles/{id}",
      kind: "role",
      action: "read",
      refusedWith: 404,
      request: (id) => ({ method: "GET", url: `/v1/roles/${id}` }),
    },
    {
      route: "GET /v1/role/{id}",
      kind: "role",
      action: "read",
      refusedWith: 404,
      request: (id) => ({ method: "GET", url: `/v1/role/${id}` }),
    },
    {
      route: "DELETE /v1/roles (one's own custom role and the id)",
      kind: "role",
      action: "delete",
      refusedWith: 404,
      request: (id, admin) => ({ method: "DELETE", url: `/v1/roles?id=${admin.role}&id=${id}` }),
    },
    {
      route: "DELETE /v1/role?id=",
      kind: "role",
      action: "delete",
      refusedWith: 404,
      request: (id) => ({ method: "DELETE", url: `/v1/role?id=${id}` }),
    },
    {
      route: "GET /v1/roles?tenant_id=",
      kind: "tenant",
      action: "read",
      refusedWith: 404,
      request: (id) => ({ method: "GET", url: `/v1/roles?tenant_id=${id}` }),
    },
    {
      route: "POST /v1/roles?tenant_id=",
      kind: "tenant",
      action: "create",
      refusedWith: 404,
      request: (id) => ({ method: "POST", url: `/v1/roles?tenant_id=${id}`, payload: { role: "Crossed" } }),
    },
    {
      route: "GET /v1/audit-events?tenant_id=",
      kind: "tenant",
      action: "read",
      refusedWith: 404,
      request: (id) => ({ method: "GET", url: `/v1/audit-events?tenant_id=${id}&limit=1` }),
    },
    {
      route: "GET /v1/organizations?org_id=",
      kind: "organization",
      action: "read",
      refusedWith: 404,
      request: (id) => ({ method: "GET", url: `/v1/organizations?org_id=${id}` }),
    },
    {
      route: "PUT /v1/organizations?org_id=",
      kind: "organization",
      action: "update",
      refusedWith: 404,
      request: (id) => ({
        method: "PUT",
        url: `/v1/organizations?org_id=${id}`,
        payload: { company_name: "Crossed", phone: "9898989813" },
      }),
    },
    {
      route: "DELETE /v1/organizations?org_id=",
      kind: "organization",
      action: "delete",
      refusedWith: 404,
      request: (id) => ({ method: "DELETE", url: `/v1/organizations?org_id=${id}` }),
    },
    {
      route: "PATCH /v1/organizations/credential?org_id=",
      kind: "organization",
      action: "update",
      refusedWith: 404,
      request: (id) => ({
        method: "PATCH",
        url: `/v1/organizations/credential?org_id=${id}`,
        payload: { revokeTokens: true },
      }),
    },
    {
      route: "POST /v1/organizations/{orgId}/approve",
      kind: "organization",
      action: "update",
      refusedWith: 404,
      request: (id) => ({ method: "POST", url: `/v1/organizations/${id}/approve` }),
    },
    {
      route: "GET /v1/banks/{bankId}",
      kind: "bank",
      action: "read",
      refusedWith: 404,
      request: (id) => ({ method: "GET", url: `/v1/banks/${id}` }),
    },
    {
      route: "PUT /v1/banks/{bankId}",
      kind: "bank",
      action: "update",
      refusedWith: 404,
      request: (id) => ({ method: "PUT", url: `/v1/banks/${id}`, payload: { organizationSelfRegistration: false } }),
    },
    {
      route: "POST /v1/banks/{bankId}/approve",
      kind: "bank",
      action: "update",
      refusedWith: 403,
      request: (id) => ({ method: "POST", url: `/v1/banks/${id}/approve` }),
    },
    {
      route: "PUT /v1/modules/{id}",
      kind: "module",
      action: "update",
      refusedWith: 403,
      request: (id) => ({ method: "PUT", url: `/v1/modules/${id}`, payload: { module: "Crossed" } }),
    },
    {
      route: "DELETE /v1/modules?id=",
      kind: "module",
      action: "delete",
      refusedWith: 403,
      request: (id) => ({ method: "DELETE", url: `/v1/modules?id=${id}` }),
    },
  ];
  /** An id of the right shape that names nothing. */
  const unknownId: Record<Kind, () => string> = {
    user: () => newId("usr"),
    role: () => newId("rol"),
    tenant: () => newId("org"),
    organization: () => newId("org"),
    bank: () => newId("bnk"),
    module: () => newId("mod"),
  };

  /**
   * What the reference model says of `admin` acting on `target` through `route`: out of reach, or within it
   * (and then the answer a request that passed the tenant check gets).
   */
  function decision(
    admin: Admin,
    route: Route,
    target: Target,
  ): { allowed: false } | { allowed: true; status: number } {
    // An id in a body names something of the caller's own tenant; modules are the platform owner's to change.
    if (route.inBody || target.owner === null) return { allowed: false };
    // A bank's record is its own users' and the platform owner's.
    if (route.kind === "bank") return { allowed: false };
    if (route.route === "POST /v1/organizations/{orgId}/approve") {
      // Its bank approves an organization; these are Active already, so nothing changes.
      return target.owner.bankId === admin.tenant.id ? { allowed: true, status: 409 } : { allowed: false };
    }
    const actor = { tenantId: admin.tenant.id, kind: admin.tenant.kind, internal: false };
    return model.reaches(actor, target.owner, route.action) ? { allowed: true, status: 200 } : { allowed: false };
  }

  function send(admin: Admin, { method, url, payload }: Request) {
    return app.inject({
      method,
      url,
      ...(payload ? { payload } : {}),
      headers: { authorization: `Bearer ${admin.token}` },
    });
  }

  it("refuses an admin other tenants' real ids in paths, queries and bodies (a bank only reads its organizations'), changing no row", async () => {
    const othersOf = (admin: Admin, route: Route) =>
      targets.filter((t) => t.kind === route.kind && t.owner?.id !== admin.tenant.id);
    // Drawn by name, so a counterexample reads as one (and shows no token).
    type Drawn = { admin: string; route: string; target: Target };
    const adminNamed = new Map(admins.map((a) => [a.name, a]));
    const routeNamed = new Map(routes.map((r) => [r.route, r]));
    const draw = fc
      .constantFrom(...admins)
      .chain((admin) =>
        fc
          .constantFrom(...routes)
          .chain((route) =>
            fc
              .constantFrom(...othersOf(admin, route))
              .map((target): Drawn => ({ admin: admin.name, route: route.route, target })),
          ),
      );
    // Every route, for each admin, with the first object of each other tenant (and each catalogue module).
    const examples: Array<[Drawn]> = [];
    for (const admin of admins) {
      for (const route of routes) {
        const seen = new Set<string>();
        for (const target of othersOf(admin, route)) {
          const owner = target.owner?.id ?? target.id;
          if (seen.has(owner)) continue;
          seen.add(owner);
          examples.push([{ admin: admin.name, route: route.route, target }]);
        }
      }
    }
    const unknownAnswers = new Map<string, unknown>();
    const tried = new Set<string>();
    await fc.assert(
      fc.asyncProperty(draw, async (drawn) => {
        const admin = adminNamed.get(drawn.admin) as Admin;
        const route = routeNamed.get(drawn.route) as Route;
        const { target } = drawn;
        const what = `${admin.name}: ${route.route} with ${target.owner?.kind ?? "the platform"} ${target.owner?.id ?? ""}'s ${target.kind} ${target.id}`;
        tried.add(`${admin.name} ${route.route}`);
        const before = await fingerprint(app);
        const res = await send(admin, route.request(target.id, admin));
        const after = await fingerprint(app);
        expect(after, `${what}: rows changed`).toEqual(before);
        const expected = decision(admin, route, target);
        if (expected.allowed) {
          expect(res.statusCode, `${what}: ${res.body}`).toBe(expected.status);
          return;
        }
        expect(res.statusCode, `${what}: ${res.body}`).toBe(route.refusedWith);
        expect(res.headers["content-type"], what).toMatch(/^application\/problem\+json/);
        // Indistinguishable from an id that names nothing: other tenants' ids cannot be probed.
        const key = `${admin.name} ${route.route}`;
        if (!unknownAnswers.has(key)) {
          unknownAnswers.set(
            key,
            bodyWithoutRequestId(await send(admin, route.request(unknownId[route.kind](), admin))),
          );
        }
        expect(bodyWithoutRequestId(res), what).toEqual(unknownAnswers.get(key));
      }),
      { examples, numRuns: examples.length + 100 },
    );
    expect(tried.size).toBe(admins.length * routes.length);
  }, 120_000);
});
