// An organization's one-time-code settings: its admin changes them in the dashboard, within the
// platform's limits and its bank's bounds, and api-auth applies them at the next send.
import {
  as,
  bankAdmin,
  buildApiAuth,
  buildDashboard,
  grant,
  isolatedDashboard,
  memberOf,
  organizationAdmin,
  platformOwner,
  tokenFor,
  waitFor,
  withBearer,
} from "@ipaas/testing";
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

// Both apps on the run's database, for every test here.
let dashboard: FastifyInstance;
let api: FastifyInstance;
beforeAll(async () => {
  dashboard = await buildDashboard();
  api = await buildApiAuth();
});
afterAll(async () => {
  await api.close();
  await dashboard.close();
});

describe("one-time-code settings", () => {
  it("shows the defaults, and changes only what the admin sends", async () => {
    const admin = await organizationAdmin(dashboard);
    const before = (await as(dashboard, admin.token).get("/v1/organizations")).json();
    expect(before.otp).toEqual({
      channels: ["sms", "email"],
      codeLength: 6,
      ttlSeconds: 300,
      defaultCountry: "IN",
      allowedCountries: ["IN"],
      dailyBudget: 10_000,
      userTokenTtlSeconds: 3600,
      appOrigins: [],
      requireDeviceBinding: false,
    });
    const changed = await as(dashboard, admin.token).put("/v1/organizations", {
      otp: { channels: ["email", "whatsapp"], codeLength: 8, allowedCountries: ["IN", "AE"] },
    });
    expect(changed.statusCode).toBe(200);
    const after = (await as(dashboard, admin.token).get("/v1/organizations")).json();
    expect(after.otp).toEqual({
      ...before.otp,
      channels: ["email", "whatsapp"],
      codeLength: 8,
      allowedCountries: ["IN", "AE"],
    });
  });

  it("keeps the settings a change does not name, not the defaults (a change of one reset the others)", async () => {
    const admin = await organizationAdmin(dashboard);
    const api = as(dashboard, admin.token);
    await api.put("/v1/organizations", { otp: { ttlSeconds: 120, dailyBudget: 50, requireDeviceBinding: true } });
    expect((await api.put("/v1/organizations", { otp: { codeLength: 7 } })).statusCode).toBe(200);
    expect((await api.get("/v1/organizations")).json().otp).toMatchObject({
      codeLength: 7,
      ttlSeconds: 120,
      dailyBudget: 50,
      requireDeviceBinding: true,
    });
  });

  it("refuses settings outside the platform's bounds, and changes nothing", async () => {
    const admin = await organizationAdmin(dashboard);
    const api = as(dashboard, admin.token);
    for (const otp of [
      { codeLength: 4 },
      { ttlSeconds: 3600 },
      { channels: [] },
      { channels: ["pigeon"] },
      { defaultCountry: "US" },
      { userTokenTtlSeconds: 172_800 },
      { appOrigins: ["javascript:alert(1)"] },
      { appOrigins: ["https://app.example/path"] },
      { unknown: true },
    ]) {
      const res = await api.put("/v1/organizations", { otp });
      expect(res.statusCode, JSON.stringify(otp)).toBe(400);
    }
    expect((await api.get("/v1/organizations")).json().otp.codeLength).toBe(6);
  });

  it("lets only users who may update the organization change them", async () => {
    const admin = await organizationAdmin(dashboard);
    const reader = await memberOf(dashboard, admin.token, { permissions: [grant("organizations", "r")] });
    const res = await as(dashboard, reader.token).put("/v1/organizations", { otp: { codeLength: 7 } });
    expect(res.statusCode).toBe(403);
  });

  it("reaches api-auth through the organization event, in milliseconds", async () => {
    const admin = await organizationAdmin(dashboard, { scopes: ["read_bills", "otp"] });
    const partner = await tokenFor(api, admin.org, { scope: "otp" });
    let numbers = 0;
    const send = (channel: string) => {
      numbers += 1;
      const destination =
        channel === "email" ? `someone.${numbers}@example.test` : `+91981234${String(numbers).padStart(4, "0")}`;
      return withBearer(api, partner, "POST", "/v1/otp/send", { channel, destination });
    };
    expect((await send("whatsapp")).statusCode).toBe(403);
    await as(dashboard, admin.token).put("/v1/organizations", { otp: { channels: ["whatsapp"], ttlSeconds: 120 } });
    // api-auth holds the settings with the organization's credentials; the event refreshes them.
    const changedAt = Date.now();
    const sent = await waitFor("the new settings at api-auth", async () => {
      const res = await send("whatsapp");
      return res.statusCode === 202 ? res : null;
    });
    expect(Date.now() - changedAt).toBeLessThan(5_000);
    expect(sent.json()).toMatchObject({ channel: "whatsapp", expiresIn: 120 });
    expect((await send("email")).statusCode).toBe(403);
  });
});

/** Bounds narrower than the defaults in every respect. */
const BOUNDS = {
  channels: ["sms", "email"],
  allowedCountries: ["IN", "AE"],
  maxDailyBudget: 5000,
  maxUserTokenTtlSeconds: 1800,
  requireDeviceBinding: true,
};

/** The organization.updated events written for an organization so far. */
function updateEvents(app: FastifyInstance, orgId: string) {
  return app.db.outboxEvent.findMany({
    where: { aggregateId: orgId, type: "organization.updated" },
    orderBy: { createdAt: "asc" },
  });
}

describe("a bank's bounds on its organizations' one-time-code settings", () => {
  /** A bank's Master Admin, signed in, whose bank has set `bounds`. */
  async function boundedBank(bounds: object = BOUNDS) {
    const admin = await bankAdmin(dashboard);
    const res = await as(dashboard, admin.token).put(`/v1/banks/${admin.bank.bankId}`, { organizationOtp: bounds });
    expect(res.statusCode).toBe(200);
    return admin;
  }

  it("are set and shown by the bank, each within the platform's limits, and null for the platform's", async () => {
    const { token, bank } = await bankAdmin(dashboard);
    const url = `/v1/banks/${bank.bankId}`;
    expect((await as(dashboard, token).get(url)).json().organizationOtp).toBeNull();
    const { requireDeviceBinding: _left, ...incomplete } = BOUNDS;
    for (const organizationOtp of [
      incomplete,
      { ...BOUNDS, channels: [] },
      { ...BOUNDS, channels: ["sms", "pigeon"] },
      { ...BOUNDS, allowedCountries: ["india"] },
      { ...BOUNDS, maxDailyBudget: 10_000_001 },
      { ...BOUNDS, maxDailyBudget: 1.5 },
      { ...BOUNDS, maxUserTokenTtlSeconds: 299 },
      { ...BOUNDS, maxUserTokenTtlSeconds: 86_401 },
      { ...BOUNDS, unknown: true },
    ]) {
      const res = await as(dashboard, token).put(url, { organizationOtp });
      expect(res.statusCode, JSON.stringify(organizationOtp)).toBe(400);
    }
    expect((await as(dashboard, token).get(url)).json().organizationOtp).toBeNull();

    const set = await as(dashboard, token).put(url, { organizationOtp: BOUNDS });
    expect(set.statusCode).toBe(200);
    expect(set.json().organizationOtp).toEqual(BOUNDS);
    expect((await as(dashboard, token).get(url)).json().organizationOtp).toEqual(BOUNDS);
    expect((await as(dashboard, token).put(url, { organizationOtp: null })).json().organizationOtp).toBeNull();
    expect((await as(dashboard, token).get(url)).json().organizationOtp).toBeNull();
  });

  it("cannot be set by another bank", async () => {
    const { token, bank } = await bankAdmin(dashboard);
    const stranger = await bankAdmin(dashboard);
    const res = await as(dashboard, stranger.token).put(`/v1/banks/${bank.bankId}`, { organizationOtp: BOUNDS });
    expect(res.statusCode).toBe(404);
    expect((await as(dashboard, token).get(`/v1/banks/${bank.bankId}`)).json().organizationOtp).toBeNull();
  });

  it("refuse an organization's change beyond them, naming the setting, and write nothing", async () => {
    const bank = await boundedBank();
    const admin = await organizationAdmin(dashboard, { bankId: bank.bank.bankId });
    const org = as(dashboard, admin.token);
    const before = (await org.get("/v1/organizations")).json().otp;
    const eventsBefore = (await updateEvents(dashboard, admin.org.orgId)).length;
    for (const [otp, field, detail] of [
      [{ channels: ["sms", "whatsapp"] }, "otp.channels", "whatsapp"],
      [{ allowedCountries: ["IN", "US"], defaultCountry: "US" }, "otp.allowedCountries", "US"],
      [{ dailyBudget: 5001 }, "otp.dailyBudget", "5000"],
      [{ userTokenTtlSeconds: 1801 }, "otp.userTokenTtlSeconds", "1800"],
      [{ requireDeviceBinding: false }, "otp.requireDeviceBinding", "required"],
    ] as const) {
      const res = await org.put("/v1/organizations", { otp });
      expect(res.statusCode, JSON.stringify(otp)).toBe(400);
      expect(res.json()).toMatchObject({
        code: "OTP_SETTINGS_NOT_ALLOWED",
        errors: [{ field }],
        detail: expect.stringContaining(detail),
      });
    }
    expect((await org.get("/v1/organizations")).json().otp).toEqual(before);
    expect(await updateEvents(dashboard, admin.org.orgId)).toHaveLength(eventsBefore);

    const within = {
      channels: ["email"],
      allowedCountries: ["AE"],
      defaultCountry: "AE",
      dailyBudget: 5000,
      userTokenTtlSeconds: 1800,
      requireDeviceBinding: true,
    };
    expect((await org.put("/v1/organizations", { otp: within })).statusCode).toBe(200);
    expect((await org.get("/v1/organizations")).json().otp).toEqual({ ...before, ...within });
    // A setting the bank does not bound changes alone, though the others sit at the bank's maximum.
    expect((await org.put("/v1/organizations", { otp: { codeLength: 8 } })).statusCode).toBe(200);
  });

  it("narrowed, clamp the bank's organizations at once, each with its event, and reach api-auth", async () => {
    const { token, bank } = await bankAdmin(dashboard);
    const settle = async (otp: object) => {
      const admin = await organizationAdmin(dashboard, { bankId: bank.bankId, scopes: ["read_bills", "otp"] });
      expect((await as(dashboard, admin.token).put("/v1/organizations", { otp })).statusCode).toBe(200);
      return admin;
    };
    const wide = await settle({
      channels: ["sms", "email", "whatsapp"],
      allowedCountries: ["US", "AE", "IN"],
      defaultCountry: "US",
      dailyBudget: 20_000,
      userTokenTtlSeconds: 7200,
      codeLength: 8,
    });
    const within = await settle({
      channels: ["email"],
      allowedCountries: ["AE"],
      defaultCountry: "AE",
      dailyBudget: 100,
      userTokenTtlSeconds: 600,
      requireDeviceBinding: true,
    });
    const usOnly = await settle({ channels: ["sms"], allowedCountries: ["US"], defaultCountry: "US" });
    const partner = await tokenFor(api, usOnly.org, { scope: "otp" });
    // api-auth's answer to a code by SMS, once the dashboard's last change has reached it (its event).
    const sendSms = async (destination: string) => {
      const res = await withBearer(api, partner, "POST", "/v1/otp/send", { channel: "sms", destination });
      return res.statusCode === 202 ? "sent" : res.json().code;
    };
    const US = "+12015550123";
    await expect.poll(() => sendSms(US), { timeout: 10_000 }).toBe("sent");

    const otpOf = async (admin: { token: string }) =>
      (await as(dashboard, admin.token).get("/v1/organizations")).json().otp;
    const withinBefore = await otpOf(within);
    const events = async () =>
      Promise.all([wide, within, usOnly].map(async (a) => (await updateEvents(dashboard, a.org.orgId)).length));
    const eventsBefore = await events();

    const narrowed = await as(dashboard, token).put(`/v1/banks/${bank.bankId}`, { organizationOtp: BOUNDS });
    expect(narrowed.statusCode).toBe(200);

    expect(await otpOf(wide)).toEqual({
      channels: ["sms", "email"],
      codeLength: 8,
      ttlSeconds: 300,
      // The organization's own order is kept; the default becomes the first country left.
      allowedCountries: ["AE", "IN"],
      defaultCountry: "AE",
      dailyBudget: 5000,
      userTokenTtlSeconds: 1800,
      appOrigins: [],
      requireDeviceBinding: true,
    });
    expect(await otpOf(within)).toEqual(withinBefore);
    // None of its countries is left: no phone number is allowed until its admin picks one the bank allows.
    expect(await otpOf(usOnly)).toMatchObject({ channels: ["sms"], allowedCountries: [] });

    // One event for each organization that changed, carrying its new version; none for the one within.
    expect((await events()).map((n, i) => n - (eventsBefore[i] ?? 0))).toEqual([1, 0, 1]);
    for (const admin of [wide, usOnly]) {
      const last = (await updateEvents(dashboard, admin.org.orgId)).at(-1);
      const row = await dashboard.db.tenant.findUniqueOrThrow({ where: { id: admin.org.orgId } });
      expect(last?.payload).toMatchObject({ organizationId: admin.org.orgId, version: row.version });
    }

    await expect.poll(() => sendSms(US), { timeout: 10_000 }).toBe("COUNTRY_NOT_ALLOWED");
    // Its admin still changes its other settings, and picks a country the bank allows.
    const usAdmin = as(dashboard, usOnly.token);
    expect((await usAdmin.put("/v1/organizations", { otp: { codeLength: 7 } })).statusCode).toBe(200);
    const picked = await usAdmin.put("/v1/organizations", { otp: { allowedCountries: ["IN"], defaultCountry: "IN" } });
    expect(picked.statusCode).toBe(200);
    await expect.poll(() => sendSms("+919812345670"), { timeout: 10_000 }).toBe("sent");
  });

  it("hold when the bank narrows them while its organization changes its settings, and lose no change", async () => {
    for (let round = 0; round < 8; round++) {
      const bank = await bankAdmin(dashboard);
      const admin = await organizationAdmin(dashboard, { bankId: bank.bank.bankId });
      const org = as(dashboard, admin.token);
      // The organization widens its budget and, separately, its token lifetime, as the bank narrows both.
      const answers = await Promise.all([
        org.put("/v1/organizations", { otp: { dailyBudget: 9000 } }),
        as(dashboard, bank.token).put(`/v1/banks/${bank.bank.bankId}`, {
          organizationOtp: { ...BOUNDS, maxDailyBudget: 100, maxUserTokenTtlSeconds: 600 },
        }),
        org.put("/v1/organizations", { otp: { userTokenTtlSeconds: 500 } }),
      ]);
      const otp = (await org.get("/v1/organizations")).json().otp;
      expect(otp.dailyBudget, `round ${round}`).toBeLessThanOrEqual(100);
      expect(otp.userTokenTtlSeconds, `round ${round}`).toBeLessThanOrEqual(600);
      // A change that went through is still there: the other change did not write over it.
      if (answers[2].statusCode === 200) expect(otp.userTokenTtlSeconds).toBe(500);
      expect(answers[1].statusCode).toBe(200);
    }
  });

  it("bound an organization registering under the bank from the start", async () => {
    const bank = await boundedBank({
      channels: ["email", "whatsapp"],
      allowedCountries: ["AE", "IN"],
      maxDailyBudget: 500,
      maxUserTokenTtlSeconds: 900,
      requireDeviceBinding: true,
    });
    const admin = await organizationAdmin(dashboard, { bankId: bank.bank.bankId });
    expect((await as(dashboard, admin.token).get("/v1/organizations")).json().otp).toEqual({
      channels: ["email"],
      codeLength: 6,
      ttlSeconds: 300,
      defaultCountry: "IN",
      allowedCountries: ["IN"],
      dailyBudget: 500,
      userTokenTtlSeconds: 900,
      appOrigins: [],
      requireDeviceBinding: true,
    });
  });
});

describe("the platform owner and a bank's bounds", () => {
  let app: FastifyInstance;
  let close: () => Promise<void>;
  beforeAll(async () => {
    ({ app, close } = await isolatedDashboard("ipaas_otp_bounds"));
  });
  afterAll(() => close());

  it("sets a bank's bounds, and gives none of its organizations more than they allow", async () => {
    const owner = await platformOwner(app);
    const { bank } = await bankAdmin(app);
    const set = await as(app, owner.token).put(`/v1/banks/${bank.bankId}`, { organizationOtp: BOUNDS });
    expect(set.json().organizationOtp).toEqual(BOUNDS);
    const { org } = await organizationAdmin(app, { bankId: bank.bankId });
    const url = `/v1/organizations?org_id=${org.orgId}`;

    for (const otp of [{ dailyBudget: 5001 }, { channels: ["whatsapp"] }, { requireDeviceBinding: false }]) {
      const widened = await as(app, owner.token).put(url, { otp });
      expect(widened.statusCode, JSON.stringify(otp)).toBe(400);
      expect(widened.json().code).toBe("OTP_SETTINGS_NOT_ALLOWED");
    }
    expect((await as(app, owner.token).put(url, { otp: { dailyBudget: 4000 } })).statusCode).toBe(200);
    expect((await as(app, owner.token).get(url)).json().otp).toMatchObject({
      dailyBudget: 4000,
      channels: ["sms", "email"],
    });
  });
});
