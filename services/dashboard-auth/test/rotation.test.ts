import { clientSecretMatches } from "@ipaas/domain";
import { as, grant, isolatedDashboard, memberOf, organizationAdmin, platformOwner } from "@ipaas/testing";
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

describe("client-secret rotation (dashboard side)", () => {
  let app: FastifyInstance;
  let close: () => Promise<void>;
  beforeAll(async () => {
    ({ app, close } = await isolatedDashboard("ipaas_rotation", { CREDENTIAL_GRACE_MAX_SECONDS: "3600" }));
  });
  afterAll(() => close());

  const outboxFor = (organizationId: string) =>
    app.db.outboxEvent.findMany({ where: { aggregateId: organizationId }, orderBy: { createdAt: "asc" } });

  it("returns the new secret once, bumps the version and writes the event in the same transaction", async () => {
    const admin = await organizationAdmin(app);
    const res = await as(app, admin.token).patch("/v1/organizations/credential", {});
    expect(res.statusCode).toBe(200);
    expect(res.headers["cache-control"]).toBe("no-store");
    const body = res.json();
    expect(body).toMatchObject({
      message: "Client secret updated successfully",
      clientKey: admin.org.clientKey,
      credentialVersion: 2,
    });
    expect(body.clientSecret).not.toBe(admin.org.clientSecret);
    // The API key carries the same key and the new secret, under the prefix secret scanners know.
    expect(body.apiKey).toBe(`ipaas_sk_${admin.org.clientKey.replaceAll("-", "")}_${body.clientSecret}`);

    const credential = await app.db.organizationCredential.findUniqueOrThrow({ where: { tenantId: admin.org.orgId } });
    expect(clientSecretMatches(body.clientSecret, credential.secretHash)).toBe(true);
    expect(credential.previousSecretHash).toBeNull();
    expect(credential.version).toBe(2);

    const [event] = (await outboxFor(admin.org.orgId)).filter((e) => e.type === "organization.credential_rotated");
    expect(event?.payload).toMatchObject({
      organizationId: admin.org.orgId,
      credentialVersion: 2,
      previousSecretValidUntil: null,
    });
    // Events carry no secret and no hash.
    expect(JSON.stringify(event)).not.toContain(body.clientSecret);
    expect(JSON.stringify(event)).not.toContain(credential.secretHash);
  });

  it("keeps the previous secret for the grace period, bounded by configuration, and can revoke tokens", async () => {
    const admin = await organizationAdmin(app);
    const api = as(app, admin.token);
    const tooLong = await api.patch("/v1/organizations/credential", { graceSeconds: 7200 });
    expect(tooLong.statusCode).toBe(400);
    expect(tooLong.json().errors[0].field).toBe("graceSeconds");

    const res = await api.patch("/v1/organizations/credential", { graceSeconds: 600, revokeTokens: true });
    expect(res.statusCode).toBe(200);
    const credential = await app.db.organizationCredential.findUniqueOrThrow({ where: { tenantId: admin.org.orgId } });
    expect(clientSecretMatches(admin.org.clientSecret, credential.previousSecretHash ?? "")).toBe(true);
    expect(credential.previousSecretExpiresAt?.getTime()).toBeGreaterThan(Date.now() + 590_000);
    expect(credential.tokensNotBefore).not.toBeNull();
    const events = (await outboxFor(admin.org.orgId)).filter((e) => e.type === "organization.credential_rotated");
    expect(events.at(-1)?.payload).toMatchObject({
      previousSecretValidUntil: credential.previousSecretExpiresAt?.toISOString(),
      tokensNotBefore: credential.tokensNotBefore?.toISOString(),
    });
  });

  it("gives two concurrent rotations distinct versions; only the last secret works", async () => {
    const admin = await organizationAdmin(app);
    const api = as(app, admin.token);
    const [a, b] = await Promise.all([
      api.patch("/v1/organizations/credential", {}),
      api.patch("/v1/organizations/credential", {}),
    ]);
    const versions = [a.json().credentialVersion, b.json().credentialVersion].sort();
    expect(versions).toEqual([2, 3]);
    const credential = await app.db.organizationCredential.findUniqueOrThrow({ where: { tenantId: admin.org.orgId } });
    expect(credential.version).toBe(3);
    const last = a.json().credentialVersion === 3 ? a.json() : b.json();
    const first = a.json().credentialVersion === 3 ? b.json() : a.json();
    expect(clientSecretMatches(last.clientSecret, credential.secretHash)).toBe(true);
    expect(clientSecretMatches(first.clientSecret, credential.secretHash)).toBe(false);
    const versionsInOutbox = (await outboxFor(admin.org.orgId))
      .filter((e) => e.type === "organization.credential_rotated")
      .map((e) => (e.payload as { credentialVersion: number }).credentialVersion)
      .sort();
    expect(versionsInOutbox).toEqual([2, 3]);
  });

  it("is for the organization's Super Admin or the platform owner only", async () => {
    const admin = await organizationAdmin(app);
    const other = await organizationAdmin(app);
    const deputy = await memberOf(app, admin.token, { permissions: [grant("organizations", "ru")] });
    expect((await as(app, deputy.token).patch("/v1/organizations/credential", {})).statusCode).toBe(403);
    expect(
      (await as(app, other.token).patch(`/v1/organizations/credential?org_id=${admin.org.orgId}`, {})).statusCode,
    ).toBe(404);
    const owner = await platformOwner(app);
    const res = await as(app, owner.token).patch(`/v1/organizations/credential?org_id=${admin.org.orgId}`, {});
    expect(res.statusCode).toBe(200);
  });

  it("writes an event for each organization update and deletion, with increasing versions", async () => {
    const admin = await organizationAdmin(app);
    const owner = await platformOwner(app);
    const api = as(app, owner.token);
    await api.put(`/v1/organizations?org_id=${admin.org.orgId}`, { scopes: ["read_bills"] });
    await api.put(`/v1/organizations?org_id=${admin.org.orgId}`, { status: "Suspended" });
    await api.delete(`/v1/organizations?org_id=${admin.org.orgId}`);
    // The suspension, the deletion and the sessions it ended also announce access changes to dashboard-auth.
    const all = await outboxFor(admin.org.orgId);
    expect(all.filter((e) => e.type === "access.changed")).toHaveLength(3);
    const events = all.filter((e) => e.type.startsWith("organization."));
    expect(events.map((e) => e.type)).toEqual(["organization.updated", "organization.updated", "organization.deleted"]);
    expect(events.map((e) => (e.payload as { version: number }).version)).toEqual([2, 3, 4]);
    expect(events[1]?.payload).toMatchObject({ status: "SUSPENDED", scopes: ["read_bills"] });
  });
});
