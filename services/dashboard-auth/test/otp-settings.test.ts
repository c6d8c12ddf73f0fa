// An organization's one-time-code settings: its admin changes them in the dashboard, within the
// platform's bounds, and api-auth applies them at the next send.
import {
  as,
  buildApiAuth,
  buildDashboard,
  grant,
  memberOf,
  organizationAdmin,
  tokenFor,
  withBearer,
} from "@ipaas/testing";
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

describe("one-time-code settings", () => {
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

  it("reaches api-auth at the next send", async () => {
    const admin = await organizationAdmin(dashboard, { scopes: ["read_bills", "otp"] });
    const partner = await tokenFor(api, admin.org, { scope: "otp" });
    const send = (channel: string, destination: string) =>
      withBearer(api, partner, "POST", "/v1/otp/send", { channel, destination });
    expect((await send("whatsapp", "+919812345670")).statusCode).toBe(403);
    await as(dashboard, admin.token).put("/v1/organizations", { otp: { channels: ["whatsapp"], ttlSeconds: 120 } });
    const sent = await send("whatsapp", "+919812345670");
    expect(sent.statusCode).toBe(202);
    expect(sent.json()).toMatchObject({ channel: "whatsapp", expiresIn: 120 });
    expect((await send("email", "someone@example.test")).statusCode).toBe(403);
  });
});
