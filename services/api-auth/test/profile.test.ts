// The person's own profile, from their device, with the user token a sign-in gave them.

import { TokenService } from "@ipaas/service-kit";
import { buildDeliveryWorld, type DeliveryWorld, newOrganization, tokenFor, waitFor, withBearer } from "@ipaas/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

describe("the end-user profile API", () => {
  let world: DeliveryWorld;
  beforeAll(async () => {
    world = await buildDeliveryWorld();
  });
  afterAll(() => world.close());

  let counter = 0;
  const newEmail = () => {
    counter += 1;
    return `profile.${Date.now()}.${counter}@example.test`;
  };

  async function organization() {
    const org = await newOrganization(world.app, { scopes: ["otp"] });
    const partnerToken = await tokenFor(world.app, org, { scope: "otp" });
    const partner = (method: "GET" | "POST" | "DELETE", url: string, body?: object) =>
      withBearer(world.app, partnerToken, method, url, body);
    return { org, partnerToken, partner };
  }

  /** Signs the person at `email` in through an organization's backend; the token their device gets. */
  async function signIn(org: Awaited<ReturnType<typeof organization>>, email: string) {
    const sent = await org.partner("POST", "/v1/otp/send", { channel: "email", destination: email });
    expect(sent.statusCode).toBe(202);
    const { requestId } = sent.json() as { requestId: string };
    const verified = await org.partner("POST", "/v1/otp/verify", { requestId, code: await world.nextCode(email) });
    expect(verified.statusCode).toBe(200);
    return verified.json() as { userId: string; token: string };
  }

  const me = (token: string, method: "GET" | "POST" | "DELETE" = "GET", url = "/v1/users/me", body?: object) =>
    withBearer(world.app, token, method, url, body);

  it("shows the person their own profile, with the token or its Base64 form", async () => {
    const email = newEmail();
    const user = await signIn(await organization(), email);
    const res = await me(user.token);
    expect(res.statusCode).toBe(200);
    expect(res.headers["cache-control"]).toBe("no-store");
    expect(res.json()).toMatchObject({ userId: user.userId, email, phone: null, name: null });
    const base64 = await me(Buffer.from(user.token).toString("base64"));
    expect(base64.json()).toEqual(res.json());
  });

  it("changes the name, kept encrypted, and shared with every organization the person uses", async () => {
    const email = newEmail();
    const a = await organization();
    const b = await organization();
    const atA = await signIn(a, email);
    const renamed = await world.app.inject({
      method: "PATCH",
      url: "/v1/users/me",
      headers: { authorization: `Bearer ${atA.token}` },
      payload: { name: "Asha Verma" },
    });
    expect(renamed.json()).toMatchObject({ name: "Asha Verma" });
    const row = await world.app.db.endUser.findFirstOrThrow({ where: { subjects: { some: { id: atA.userId } } } });
    expect(row.nameEncrypted).not.toContain("Asha");
    const atB = await signIn(b, email);
    expect(atB.userId).not.toBe(atA.userId);
    expect((await me(atB.token)).json()).toMatchObject({ userId: atB.userId, name: "Asha Verma" });
  });

  it("refuses partner tokens, forged and malformed tokens here", async () => {
    const org = await organization();
    expect((await me(org.partnerToken)).statusCode).toBe(401);
    expect((await me("not-a-token")).statusCode).toBe(401);
    expect((await world.app.inject({ method: "GET", url: "/v1/users/me" })).statusCode).toBe(401);
    const user = await signIn(org, newEmail());
    const [h, p] = user.token.split(".");
    expect((await me(`${h}.${p}.${"A".repeat(86)}`)).statusCode).toBe(401);
  });

  it("signs a token out: refused from then on, and inactive at token-status", async () => {
    const org = await organization();
    const user = await signIn(org, newEmail());
    expect((await me(user.token, "POST", "/v1/users/me/sign-out")).statusCode).toBe(204);
    expect((await me(user.token)).statusCode).toBe(401);
    expect((await org.partner("POST", "/v1/otp/token-status", { token: user.token })).json()).toEqual({
      active: false,
    });
  });

  it("erases the person for this organization, and the person once no organization knows them", async () => {
    const email = newEmail();
    const a = await organization();
    const b = await organization();
    const atA = await signIn(a, email);
    const atB = await signIn(b, email);
    expect((await me(atA.token, "DELETE")).statusCode).toBe(204);
    expect((await me(atA.token)).statusCode).toBe(401);
    expect((await me(atB.token)).statusCode).toBe(200);
    expect((await me(atB.token, "DELETE")).statusCode).toBe(204);
    expect(await world.app.db.pairwiseSubject.count({ where: { id: { in: [atA.userId, atB.userId] } } })).toBe(0);
    const people = await world.app.db.endUser.count({ where: { subjects: { none: {} } } });
    expect(people).toBe(0);
  });

  it("lets a browser app call from an origin the caller's organization lists, and no other", async () => {
    const a = await organization();
    const b = await organization();
    const appA = `https://app-${Date.now()}.a.example`;
    const appB = `https://app-${Date.now()}.b.example`;
    await world.app.db.tenant.update({ where: { id: a.org.id }, data: { otpSettings: { appOrigins: [appA] } } });
    await world.app.db.tenant.update({ where: { id: b.org.id }, data: { otpSettings: { appOrigins: [appB] } } });
    // The origins are read at most once a minute: this app's first preflight reads them now.
    const preflight = (origin: string) =>
      world.app.inject({
        method: "OPTIONS",
        url: "/v1/users/me",
        headers: { origin, "access-control-request-method": "PATCH" },
      });
    const allowed = await preflight(appA);
    expect(allowed.statusCode).toBe(204);
    expect(allowed.headers["access-control-allow-origin"]).toBe(appA);
    expect(allowed.headers["access-control-allow-methods"]).toContain("PATCH");
    const stranger = await preflight("https://evil.example");
    expect(stranger.headers["access-control-allow-origin"]).toBeUndefined();

    const user = await signIn(a, newEmail());
    const fromA = await world.app.inject({
      method: "GET",
      url: "/v1/users/me",
      headers: { authorization: `Bearer ${user.token}`, origin: appA },
    });
    expect(fromA.headers["access-control-allow-origin"]).toBe(appA);
    expect(fromA.headers.vary).toContain("Origin");
    // B's origin passes a preflight (it carries no token), but not with a user of A.
    const fromB = await world.app.inject({
      method: "GET",
      url: "/v1/users/me",
      headers: { authorization: `Bearer ${user.token}`, origin: appB },
    });
    expect(fromB.headers["access-control-allow-origin"]).toBeUndefined();
  });

  describe("changing the phone number or email", () => {
    /** As if the last codes went out a minute ago: the resend cooldown no longer holds. */
    const pastCooldown = (organizationId: string) =>
      world.app.db.otpChallenge.updateMany({
        where: { tenantId: organizationId },
        data: { createdAt: new Date(Date.now() - 60_000) },
      });
    const post = (token: string, url: string, body: object) =>
      world.app.inject({ method: "POST", url, headers: { authorization: `Bearer ${token}` }, payload: body });

    it("takes a code sent to the new contact, replaces the old one everywhere, and tells the old one", async () => {
      const oldEmail = newEmail();
      const newAddress = newEmail();
      const a = await organization();
      const user = await signIn(a, oldEmail);
      const sent = await post(user.token, "/v1/users/me/contact", { channel: "email", destination: newAddress });
      expect(sent.statusCode).toBe(202);
      const { requestId } = sent.json() as { requestId: string };
      // The code is for this person's contact change only: the organization cannot sign anyone in with it.
      const code = await world.nextCode(newAddress);
      const stolen = await a.partner("POST", "/v1/otp/verify", { requestId, code });
      expect(stolen.json().code).toBe("INVALID_CODE");
      const confirmed = await post(user.token, "/v1/users/me/contact/verify", { requestId, code });
      expect(confirmed.statusCode).toBe(200);
      expect(confirmed.json()).toMatchObject({ userId: user.userId, email: newAddress });
      const notice = await waitFor(
        "the notice to the old address",
        () => world.smtp.to(oldEmail)[1] ?? null,
        15_000,
        20,
      );
      expect(notice.text).toContain("was changed");
      expect(notice.text).not.toContain(newAddress);
      // The person now signs in with the new address, as the same person (past the resend cooldown).
      await pastCooldown(a.org.id);
      const again = await signIn(a, newAddress);
      expect(again.userId).toBe(user.userId);
    });

    it("refuses a contact that is another person's, a code of someone else's change, and an old sign-in", async () => {
      const org = await organization();
      const takenEmail = newEmail();
      await signIn(org, takenEmail);
      const user = await signIn(org, newEmail());
      await pastCooldown(org.org.id);
      const sent = await post(user.token, "/v1/users/me/contact", { channel: "email", destination: takenEmail });
      expect(sent.statusCode).toBe(202);
      const { requestId } = sent.json() as { requestId: string };
      const code = await world.nextCode(takenEmail);
      const other = await signIn(org, newEmail());
      const foreign = await post(other.token, "/v1/users/me/contact/verify", { requestId, code });
      expect(foreign.json().code).toBe("INVALID_CODE");
      const taken = await post(user.token, "/v1/users/me/contact/verify", { requestId, code });
      expect(taken.statusCode).toBe(409);
      expect((await me(user.token)).json().email).not.toBe(takenEmail);

      await pastCooldown(org.org.id);
      // A token issued eleven minutes ago (signed with the service's key, its clock set back) may read the
      // profile but not change the contact.
      const earlier = new TokenService(world.app.signingKeys, world.app.tokens.issuer, () => Date.now() - 11 * 60_000);
      const stale = (
        await earlier.sign(
          { org: org.org.id },
          { typ: "at+jwt", audience: "ipaas-user-api", subject: user.userId, ttlSeconds: 3600 },
        )
      ).token;
      expect((await me(stale)).statusCode).toBe(200);
      const refused = await post(stale, "/v1/users/me/contact", { channel: "email", destination: newEmail() });
      expect(refused.statusCode).toBe(401);
      expect(refused.json().code).toBe("RECENT_SIGN_IN_REQUIRED");
    });
  });
});
