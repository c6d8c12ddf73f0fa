// Who may register with which rights (review finding 1) and registration that reveals no accounts
// (finding 9). The scope catalogue is global to the platform, so this runs on a database of its own.

import {
  as,
  buildDashboard,
  email,
  enrolAndLogin,
  isolatedDashboard,
  PASSWORD,
  platformOwner,
  post,
  resetTokenIn,
  SmtpSink,
} from "@ipaas/testing";
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MAILS_PER_ACCOUNT } from "../src/features/sign-in/attempt-gates";

type Session = Awaited<ReturnType<typeof enrolAndLogin>>;

const bankBody = (overrides: Record<string, unknown> = {}) => ({
  bankName: "Union Bank",
  branch: "Pune",
  name: "Master Admin",
  email: email("bank"),
  password: PASSWORD,
  address: { city: "Pune" },
  ...overrides,
});

const organizationBody = (bankId: string, overrides: Record<string, unknown> = {}) => ({
  bankId,
  companyName: "Biller Company",
  phone: "9898989812",
  gst: "QW7538R5PC82EDL",
  type: "Biller",
  scopes: ["read_bills"],
  email: email("org"),
  name: "Super Admin",
  password: PASSWORD,
  ...overrides,
});

describe("onboarding", () => {
  let app: FastifyInstance;
  let close: () => Promise<void>;
  let smtp: SmtpSink;
  let owner: Session & { tenantId: string; email: string };

  /** A bank that registered itself, signed in by its Master Admin, approved by the platform owner. */
  async function approvedBank() {
    const res = await post(app, "/v1/auth/banks/register", bankBody());
    expect(res.statusCode).toBe(201);
    const bank = res.json() as { bankId: string; email: string };
    expect((await as(app, owner.token).post(`/v1/banks/${bank.bankId}/approve`)).statusCode).toBe(200);
    const admin = await enrolAndLogin(app, bank.email, PASSWORD, "/v1/auth/banks/login");
    return { ...bank, admin };
  }

  beforeAll(async () => {
    smtp = await SmtpSink.start();
    ({ app, close } = await isolatedDashboard("ipaas_onboarding", {
      BANK_REGISTRATION: "approval",
      SMTP_URL: smtp.url,
      DASHBOARD_UI_URL: "https://dashboard.example.test",
    }));
    owner = await platformOwner(app);
  });
  afterAll(async () => {
    await close();
    await smtp.close();
  });

  it("refuses scopes outside the platform's catalogue at registration, naming them, and creates nothing", async () => {
    const bank = await approvedBank();
    const body = organizationBody(bank.bankId, { scopes: ["read_bills", "admin", "write:everything"] });
    const res = await post(app, "/v1/auth/register", body);
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ code: "SCOPES_NOT_ALLOWED", errors: [{ field: "scopes" }] });
    expect(res.json().detail).toContain("admin, write:everything");
    expect(await app.db.user.findUnique({ where: { email: body.email } })).toBeNull();
  });

  it("keeps a bank that registered itself Pending until the platform owner approves it", async () => {
    const res = await post(app, "/v1/auth/banks/register", bankBody());
    expect(res.statusCode).toBe(201);
    const bank = res.json() as { bankId: string; email: string; status: string };
    expect(bank.status).toBe("Pending");

    // No organization registers under it, and the answer is the one an unknown bank gets.
    const under = await post(app, "/v1/auth/register", organizationBody(bank.bankId));
    const unknown = await post(app, "/v1/auth/register", organizationBody("bnk_doesnotexist"));
    expect(under.statusCode).toBe(400);
    const { requestId: _a, ...underBody } = under.json();
    const { requestId: _b, ...unknownBody } = unknown.json();
    expect(underBody).toEqual(unknownBody);

    // Its Master Admin signs in to finish set-up, but cannot approve the bank.
    const admin = await enrolAndLogin(app, bank.email, PASSWORD, "/v1/auth/banks/login");
    expect((await as(app, admin.token).post(`/v1/banks/${bank.bankId}/approve`)).statusCode).toBe(403);
    expect((await as(app, admin.token).get("/v1/banks?status=Pending")).statusCode).toBe(403);

    const pending = await as(app, owner.token).get("/v1/banks?status=Pending");
    expect(pending.statusCode).toBe(200);
    expect(pending.json().map((b: { bankId: string }) => b.bankId)).toContain(bank.bankId);
    const approved = await as(app, owner.token).post(`/v1/banks/${bank.bankId}/approve`);
    expect(approved.statusCode).toBe(200);
    expect(approved.json()).toMatchObject({ bankId: bank.bankId, status: "Active", organizationScopes: null });
    expect((await as(app, owner.token).post(`/v1/banks/${bank.bankId}/approve`)).json().code).toBe("NOT_PENDING");
    const audit = await app.db.auditEvent.findFirst({
      where: { action: "tenant.bank_approved", targetId: bank.bankId },
    });
    const ownerRow = await app.db.user.findUniqueOrThrow({ where: { email: owner.email } });
    expect(audit?.actorId).toBe(ownerRow.id);
    expect((await post(app, "/v1/auth/register", organizationBody(bank.bankId))).statusCode).toBe(201);
  });

  it("keeps an organization Pending until its bank approves it, unless the bank lets it start", async () => {
    const bank = await approvedBank();
    const res = await post(app, "/v1/auth/register", organizationBody(bank.bankId));
    expect(res.statusCode).toBe(201);
    const org = res.json() as { orgId: string; email: string; status: string; clientKey: string };
    expect(org.status).toBe("Pending");
    expect((await app.db.tenant.findUniqueOrThrow({ where: { id: org.orgId } })).status).toBe("PENDING");

    // Its Super Admin signs in to finish set-up, but approves nothing.
    const orgAdmin = await enrolAndLogin(app, org.email);
    expect((await as(app, orgAdmin.token).post(`/v1/organizations/${org.orgId}/approve`)).statusCode).toBe(403);
    // Another bank cannot even see it.
    const stranger = await approvedBank();
    expect((await as(app, stranger.admin.token).post(`/v1/organizations/${org.orgId}/approve`)).statusCode).toBe(404);

    const approved = await as(app, bank.admin.token).post(`/v1/organizations/${org.orgId}/approve`);
    expect(approved.statusCode).toBe(200);
    expect(approved.json()).toMatchObject({ org_id: org.orgId, status: "Active" });
    // api-auth learns of it from the organization event written with the change.
    const event = await app.db.outboxEvent.findFirst({
      where: { aggregateId: org.orgId, type: "organization.updated" },
      orderBy: { createdAt: "desc" },
    });
    expect(event?.payload).toMatchObject({ organizationId: org.orgId, status: "ACTIVE" });
    expect(
      await app.db.auditEvent.findFirst({ where: { action: "organization.approved", targetId: org.orgId } }),
    ).not.toBeNull();

    // The bank lets its organizations start Active from now on.
    const open = await as(app, bank.admin.token).put(`/v1/banks/${bank.bankId}`, {
      organizationSelfRegistration: true,
    });
    expect(open.json()).toMatchObject({ organizationSelfRegistration: true });
    const next = await post(app, "/v1/auth/register", organizationBody(bank.bankId));
    expect(next.json().status).toBe("Active");
  });

  it("lets a bank narrow its organizations' scopes within the catalogue, taking dropped ones from them", async () => {
    const bank = await approvedBank();
    await as(app, bank.admin.token).put(`/v1/banks/${bank.bankId}`, { organizationSelfRegistration: true });
    const org = (
      await post(app, "/v1/auth/register", organizationBody(bank.bankId, { scopes: ["read_bills", "read_packs"] }))
    ).json() as { orgId: string; scopes: string };
    expect(org.scopes).toBe("read_bills read_packs");

    const unknown = await as(app, bank.admin.token).put(`/v1/banks/${bank.bankId}`, { organizationScopes: ["nope"] });
    expect(unknown.statusCode).toBe(400);
    expect(unknown.json()).toMatchObject({ code: "SCOPES_NOT_ALLOWED", detail: expect.stringContaining("nope") });
    const stranger = await approvedBank();
    expect(
      (await as(app, stranger.admin.token).put(`/v1/banks/${bank.bankId}`, { organizationScopes: [] })).statusCode,
    ).toBe(404);

    const narrowed = await as(app, bank.admin.token).put(`/v1/banks/${bank.bankId}`, {
      organizationScopes: ["read_bills"],
    });
    expect(narrowed.statusCode).toBe(200);
    expect(narrowed.json().organizationScopes).toEqual(["read_bills"]);
    expect((await app.db.tenant.findUniqueOrThrow({ where: { id: org.orgId } })).scopes).toEqual(["read_bills"]);

    const refused = await post(app, "/v1/auth/register", organizationBody(bank.bankId, { scopes: ["read_packs"] }));
    expect(refused.statusCode).toBe(400);
    expect(refused.json().detail).toContain("read_packs");
    // Not even the platform owner gives one of its organizations more than the bank allows.
    const widened = await as(app, owner.token).put(`/v1/organizations?org_id=${org.orgId}`, {
      scopes: ["read_bills", "read_packs"],
    });
    expect(widened.json().code).toBe("SCOPES_NOT_ALLOWED");
  });

  it("keeps the scope catalogue to the platform owner; removing a scope takes it from every bank and organization", async () => {
    const bank = await approvedBank();
    await as(app, bank.admin.token).put(`/v1/banks/${bank.bankId}`, {
      organizationSelfRegistration: true,
      organizationScopes: ["read_bills", "read_packs"],
    });
    const listed = await as(app, bank.admin.token).get("/v1/scopes");
    expect(listed.json().map((s: { name: string }) => s.name)).toEqual(
      expect.arrayContaining(["otp", "read_bills", "read_packs"]),
    );
    expect((await as(app, bank.admin.token).post("/v1/scopes", { name: "admin", description: "x" })).statusCode).toBe(
      403,
    );
    const created = await as(app, owner.token).post("/v1/scopes", { name: "read_plans", description: "Read plans" });
    expect(created.statusCode).toBe(201);
    expect((await as(app, owner.token).post("/v1/scopes", { name: "read_plans", description: "x" })).json().code).toBe(
      "SCOPE_TAKEN",
    );
    const org = (
      await post(app, "/v1/auth/register", organizationBody(bank.bankId, { scopes: ["read_bills", "read_packs"] }))
    ).json() as { orgId: string };

    expect((await as(app, owner.token).delete("/v1/scopes/read_packs")).statusCode).toBe(200);
    expect((await app.db.tenant.findUniqueOrThrow({ where: { id: org.orgId } })).scopes).toEqual(["read_bills"]);
    expect((await as(app, bank.admin.token).get(`/v1/banks/${bank.bankId}`)).json().organizationScopes).toEqual([
      "read_bills",
    ]);
    expect((await as(app, owner.token).delete("/v1/scopes/read_packs")).statusCode).toBe(404);
  });

  it("lets the platform owner create a bank whose Master Admin sets their own password from a mailed link", async () => {
    const bankAdminEmail = email("created");
    const body = {
      bankName: "State Bank",
      branch: "Delhi",
      address: { city: "Delhi" },
      name: "Admin",
      email: bankAdminEmail,
    };
    const refused = await post(app, "/v1/auth/banks/register", bankBody());
    const bankUser = await enrolAndLogin(app, refused.json().email, PASSWORD, "/v1/auth/banks/login");
    expect((await as(app, bankUser.token).post("/v1/banks", body)).statusCode).toBe(403);

    const created = await as(app, owner.token).post("/v1/banks", body);
    expect(created.statusCode).toBe(201);
    expect(created.json()).toMatchObject({ status: "Active", email: bankAdminEmail });
    await expect.poll(() => smtp.to(bankAdminEmail).length).toBe(1);
    const token = resetTokenIn(smtp.to(bankAdminEmail)[0]?.text ?? "");
    const NEW = "a passphrase of their own choosing";
    expect((await post(app, "/v1/auth/reset-password", { token, password: NEW })).statusCode).toBe(200);
    expect((await post(app, "/v1/auth/banks/login", { email: bankAdminEmail, password: NEW })).json()).toMatchObject({
      twoFactorSetupRequired: true,
    });
  });

  it("answers a registration with an address that has an account like a new one, creating nothing (finding 9)", async () => {
    const bank = await approvedBank();
    await as(app, bank.admin.token).put(`/v1/banks/${bank.bankId}`, { organizationSelfRegistration: true });
    const fresh = await post(app, "/v1/auth/register", organizationBody(bank.bankId));
    const taken = await post(
      app,
      "/v1/auth/register",
      organizationBody(bank.bankId, { email: bank.email.toUpperCase() }),
    );
    expect(taken.statusCode).toBe(fresh.statusCode);
    expect(Object.keys(taken.json()).sort()).toEqual(Object.keys(fresh.json()).sort());
    const decoy = taken.json() as { orgId: string; userId: string; clientKey: string; status: string };
    expect(decoy.status).toBe("Active");
    expect(await app.db.tenant.findUnique({ where: { id: decoy.orgId } })).toBeNull();
    expect(await app.db.user.findUnique({ where: { id: decoy.userId } })).toBeNull();
    expect(await app.db.organizationCredential.findUnique({ where: { clientKey: decoy.clientKey } })).toBeNull();

    const takenBank = await post(app, "/v1/auth/banks/register", bankBody({ email: bank.email }));
    expect(takenBank.statusCode).toBe(201);
    expect(takenBank.json().status).toBe("Pending");
    expect(await app.db.tenant.findUnique({ where: { id: takenBank.json().bankId } })).toBeNull();

    // The address's owner hears of both attempts.
    await expect.poll(() => smtp.to(bank.email).filter((m) => m.text.includes("tried to register")).length).toBe(2);
  });

  it("tells the owner of an address of a few registration attempts, not of every one", async () => {
    const bank = await approvedBank();
    const notices = () => smtp.to(bank.email).filter((m) => m.text.includes("tried to register")).length;
    for (let i = 0; i < MAILS_PER_ACCOUNT.freeAttempts + 3; i++) {
      const res = await post(app, "/v1/auth/banks/register", bankBody({ email: bank.email }));
      expect(res.statusCode).toBe(201);
    }
    await expect.poll(notices).toBe(MAILS_PER_ACCOUNT.freeAttempts);
    await new Promise((r) => setTimeout(r, 300));
    expect(notices()).toBe(MAILS_PER_ACCOUNT.freeAttempts);
  });
});

describe("closed bank registration", () => {
  it("accepts only banks the platform owner creates", async () => {
    const app = await buildDashboard({ BANK_REGISTRATION: "closed" });
    try {
      const res = await post(app, "/v1/auth/banks/register", bankBody());
      expect(res.statusCode).toBe(403);
      expect(res.json().code).toBe("REGISTRATION_CLOSED");
    } finally {
      await app.close();
    }
  });
});
