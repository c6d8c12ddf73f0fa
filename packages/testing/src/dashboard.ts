// dashboard-auth in the test world: an app against the run's database (or one of its own), and actors
// made through the HTTP API like a dashboard would.
import { createTestDatabase } from "@ipaas/db/testing";
import app, { BootstrapError, bootstrapOwner, dashboardConfig, SERVICE } from "dashboard-auth";
import type { FastifyInstance, LightMyRequestResponse } from "fastify";
import { buildTestApp, type LogCapture, testConfig } from "./infrastructure";
import { totp } from "./totp";

/** Banks that register themselves start Active here, as in development; onboarding tests set `approval`. */
export async function buildDashboard(overrides: Record<string, string> = {}, logs?: LogCapture) {
  const config = testConfig(
    { AUTH_RATE_LIMIT_PER_MINUTE: "100000", BANK_REGISTRATION: "open", ...overrides },
    dashboardConfig.load,
  );
  return buildTestApp(SERVICE, app, config, logs);
}

/**
 * A dashboard on a database of its own, for tests that change what is global to the platform (the module
 * or scope catalogue): a module created or a scope removed in the run's shared database would reach into
 * every other test file's tenants.
 */
export async function isolatedDashboard(prefix: string, overrides: Record<string, string> = {}) {
  const database = await createTestDatabase({ prefix });
  const app = await buildDashboard({ DATABASE_URL: database.url, ...overrides });
  return {
    app,
    async close() {
      await app.close();
      await database.drop();
    },
  };
}

let counter = 0;
/** A unique email for this run. */
export function email(label = "user"): string {
  counter += 1;
  return `${label}.${Date.now().toString(36)}.${counter}.${Math.random().toString(36).slice(2, 8)}@example.test`;
}

export const PASSWORD = "correct horse battery staple";

export function post(app: FastifyInstance, url: string, payload?: object, token?: string) {
  return app.inject({
    method: "POST",
    url,
    ...(payload ? { payload } : {}),
    headers: token ? { authorization: `Bearer ${token}` } : {},
  });
}

export function bodyWithoutRequestId(res: LightMyRequestResponse): unknown {
  const { requestId: _ignored, ...rest } = res.json() as Record<string, unknown>;
  return rest;
}

/** A bank's registration as its admin sends it, with `overrides`: the answer, whatever it is. */
export function bankRegistration(app: FastifyInstance, overrides: Record<string, unknown> = {}) {
  return post(app, "/v1/auth/banks/register", {
    bankName: "Punjab National Bank",
    branch: "Noida",
    name: "Admin",
    email: email("bank"),
    password: PASSWORD,
    address: { city: "Noida", country: "IN" },
    ...overrides,
  });
}

export async function registerBank(app: FastifyInstance, overrides: Record<string, unknown> = {}) {
  const res = await bankRegistration(app, overrides);
  if (res.statusCode !== 201) throw new Error(`bank registration failed: ${res.body}`);
  const bank = res.json() as { bankId: string; email: string; userId: string; roleId: string; status: string };
  // Most tests need organizations that work at once. Set in the database: through the API it takes the
  // bank's admin signed in with 2FA, which the onboarding tests do.
  await app.db.tenant.update({ where: { id: bank.bankId }, data: { organizationSelfRegistration: true } });
  return bank;
}

export async function registerOrganization(app: FastifyInstance, overrides: Record<string, unknown> = {}) {
  const bankId = (overrides.bankId as string | undefined) ?? (await registerBank(app)).bankId;
  const res = await post(app, "/v1/auth/register", {
    bankId,
    companyName: "Biller Company",
    phone: "9898989812",
    gst: "QW7538R5PC82EDL",
    type: "Biller",
    scopes: ["read_bills", "read_packs"],
    email: email("org"),
    name: "Super Admin",
    password: PASSWORD,
    ...overrides,
  });
  if (res.statusCode !== 201) throw new Error(`organization registration failed: ${res.body}`);
  return res.json() as {
    orgId: string;
    email: string;
    userId: string;
    clientKey: string;
    clientSecret: string;
    apiKey: string;
  };
}

export interface EnrolledUser {
  email: string;
  password: string;
  userId: string;
  secret: string;
  recoveryCodes: string[];
  loginPath?: string;
}

/** Registers an organization and takes its Super Admin through TOTP set-up. */
export async function enrolledUser(app: FastifyInstance): Promise<EnrolledUser> {
  const org = await registerOrganization(app);
  return { ...(await enrol(app, org.email)), userId: org.userId };
}

/** Takes a user (password known) through the first login and TOTP set-up, as the dashboard does. */
async function enrol(
  app: FastifyInstance,
  userEmail: string,
  password = PASSWORD,
  loginPath = "/v1/auth/login",
): Promise<EnrolledUser> {
  const first = await post(app, loginPath, { email: userEmail, password });
  const { setupToken } = first.json() as { setupToken?: string };
  if (!setupToken) throw new Error(`expected a set-up token: ${first.body}`);
  const { secret } = (await post(app, "/v1/auth/2fa/setup", undefined, setupToken)).json() as { secret: string };
  const verified = await post(app, "/v1/auth/2fa/verify", { code: totp(secret) }, setupToken);
  if (verified.statusCode !== 200) throw new Error(`2fa verify failed: ${verified.body}`);
  const { recoveryCodes } = verified.json() as { recoveryCodes: string[] };
  return { email: userEmail, password, userId: "", secret, recoveryCodes, loginPath };
}

/** Takes an existing user (password known) through TOTP set-up and logs them in. */
export async function enrolAndLogin(
  app: FastifyInstance,
  userEmail: string,
  password = PASSWORD,
  loginPath = "/v1/auth/login",
) {
  const user = await enrol(app, userEmail, password, loginPath);
  const session = await loginAs(app, user);
  return { ...session, user };
}

const owners = new WeakMap<FastifyInstance, EnrolledUser & { tenantId: string }>();

/**
 * The platform owner (MAIN Owner) signed in, made as in production: `bootstrapOwner` (what the admin
 * command runs), the password set with its set-up token at `/v1/auth/reset-password`, TOTP set up at the
 * first login. A database has one owner, so the app needs a database of its own (`isolatedDashboard`);
 * every call after the first is a new session of the same owner.
 */
export async function platformOwner(app: FastifyInstance) {
  let owner = owners.get(app);
  if (!owner) {
    const ownerEmail = email("owner");
    let made: { userId: string; setupToken: string };
    try {
      made = await bootstrapOwner(app.db, app.passwords, { email: ownerEmail, name: "Owner" });
    } catch (error) {
      if (!(error instanceof BootstrapError)) throw error;
      throw new Error(`platformOwner needs a database of its own (isolatedDashboard): ${error.message}`);
    }
    const reset = await post(app, "/v1/auth/reset-password", { token: made.setupToken, password: PASSWORD });
    if (reset.statusCode !== 200) throw new Error(`the owner could not set a password: ${reset.body}`);
    const { tenantId } = await app.db.user.findUniqueOrThrow({
      where: { id: made.userId },
      select: { tenantId: true },
    });
    owner = { ...(await enrol(app, ownerEmail)), userId: made.userId, tenantId };
    owners.set(app, owner);
  }
  const session = await loginAs(app, owner);
  return { ...session, user: owner, tenantId: owner.tenantId, email: owner.email };
}

/** A tenant's head user logged in: a registered organization's Super Admin or a bank's Master Admin. */
export async function organizationAdmin(app: FastifyInstance, overrides: Record<string, unknown> = {}) {
  const org = await registerOrganization(app, overrides);
  const session = await enrolAndLogin(app, org.email);
  return { ...session, org };
}

export async function bankAdmin(app: FastifyInstance) {
  const bank = await registerBank(app);
  const { token } = await enrolAndLogin(app, bank.email, PASSWORD, "/v1/auth/banks/login");
  return { token, bank };
}

export type Grant = {
  slug: string;
  allow_read: boolean;
  allow_create: boolean;
  allow_update: boolean;
  allow_delete: boolean;
};

export function grant(slug: string, actions: string): Grant {
  return {
    slug,
    allow_read: actions.includes("r"),
    allow_create: actions.includes("c"),
    allow_update: actions.includes("u"),
    allow_delete: actions.includes("d"),
  };
}

/** Has `adminToken` create a user with a role and permissions, then logs the new user in. */
export async function memberOf(
  app: FastifyInstance,
  adminToken: string,
  options: { permissions: Grant[]; roleName?: string; tenantId?: string },
) {
  const query = options.tenantId ? `?tenant_id=${options.tenantId}` : "";
  const roles = (
    await app.inject({ method: "GET", url: `/v1/roles${query}`, headers: { authorization: `Bearer ${adminToken}` } })
  ).json() as Array<{ id: string; role: string }>;
  const role = roles.find((r) => r.role === (options.roleName ?? "Admin"));
  if (!role) throw new Error(`no role ${options.roleName ?? "Admin"} in ${JSON.stringify(roles)}`);
  const memberEmail = email("member");
  const res = await app.inject({
    method: "POST",
    url: `/v1/users${query}`,
    headers: { authorization: `Bearer ${adminToken}` },
    payload: {
      email: memberEmail,
      name: "Member",
      role_id: role.id,
      permissions: options.permissions,
      password: PASSWORD,
    },
  });
  if (res.statusCode !== 201) throw new Error(`member creation failed: ${res.body}`);
  const created = res.json() as { user_id: string; org_id: string };
  // Banks log in at their own path.
  const loginPath = created.org_id.startsWith("bnk_") ? "/v1/auth/banks/login" : "/v1/auth/login";
  const session = await enrolAndLogin(app, memberEmail, PASSWORD, loginPath);
  return { ...session, userId: created.user_id, tenantId: created.org_id, email: memberEmail, roleId: role.id };
}

/**
 * Exchanges a session's refresh token for a new pair, in place, as a dashboard does when a change to the
 * user's claims (role, permissions, name, the module list) has made its access token stale.
 */
export async function refreshSession(app: FastifyInstance, session: { token: string; refreshToken: string }) {
  const res = await post(app, "/v1/auth/refresh", { refreshToken: session.refreshToken });
  if (res.statusCode !== 200) throw new Error(`refresh failed: ${res.body}`);
  const next = res.json() as { token: string; refreshToken: string };
  session.token = next.token;
  session.refreshToken = next.refreshToken;
  return session;
}

export function as(app: FastifyInstance, token: string) {
  const call = (method: "GET" | "POST" | "PUT" | "DELETE" | "PATCH", url: string, payload?: object) =>
    app.inject({ method, url, ...(payload ? { payload } : {}), headers: { authorization: `Bearer ${token}` } });
  return {
    get: (url: string) => call("GET", url),
    post: (url: string, payload?: object) => call("POST", url, payload),
    put: (url: string, payload?: object) => call("PUT", url, payload),
    patch: (url: string, payload?: object) => call("PATCH", url, payload),
    delete: (url: string) => call("DELETE", url),
  };
}

/**
 * Logs an enrolled user in. Each call uses the next unused second factor: the code of the next time
 * step first (accepted within the ±1 step window), then recovery codes.
 */
export async function loginAs(app: FastifyInstance, user: EnrolledUser & { usedFactors?: number }) {
  const n = user.usedFactors ?? 0;
  user.usedFactors = n + 1;
  const code = n === 0 ? totp(user.secret, Date.now() + 30_000) : user.recoveryCodes[n - 1];
  if (!code) throw new Error("no second factor left");
  const res = await post(app, user.loginPath ?? "/v1/auth/login", { email: user.email, password: user.password, code });
  if (res.statusCode !== 200) throw new Error(`login failed: ${res.body}`);
  return res.json() as { token: string; refreshToken: string; expiredIn: string; createdAt: string };
}

/**
 * The single-use token of the password-reset (or set-up) link in a message's text: the link to the dashboard
 * UI's `/reset-password` page, with the token in its fragment, which browsers never send to a server.
 * Throws when there is no such link, or when its query is not empty (a token there would reach servers).
 */
export function resetTokenIn(text: string): string {
  const link = /https?:\/\/[^\s"<]*\/reset-password[^\s"<]*/.exec(text)?.[0];
  if (!link) throw new Error(`no reset link in:\n${text}`);
  const url = new URL(link);
  if (url.search !== "") throw new Error(`the reset link has a query: ${link}`);
  const token = /^#token=([A-Za-z0-9_%-]+)$/.exec(url.hash)?.[1];
  if (!token) throw new Error(`no token in the fragment of ${link}`);
  return decodeURIComponent(token);
}
