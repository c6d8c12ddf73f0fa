// End-user sign-in with one-time codes, over HTTP: the organization's backend sends a code, the person
// reads it, the backend checks it and learns only a pairwise userId and a token.
import {
  buildDeliveryWorld,
  type DeliveryWorld,
  decodeJwt,
  newOrganization,
  tokenFor,
  withBearer,
} from "@ipaas/testing";
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

describe("one-time codes", () => {
  let world: DeliveryWorld;
  let app: FastifyInstance;
  beforeAll(async () => {
    world = await buildDeliveryWorld();
    app = world.app;
  });
  afterAll(() => world.close());

  /** The code the person receives at `destination` (written as it was sent: Indian numbers may lack +91). */
  const codeFor = (destination: string) =>
    world.nextCode(
      destination.includes("@")
        ? destination.toLowerCase()
        : destination.startsWith("+")
          ? destination
          : `+91${destination}`,
    );

  let counter = 0;
  /** A unique address or number for this run. */
  const person = () => {
    counter += 1;
    const n = `${Date.now() % 1_000_000}${counter}`.padStart(8, "0").slice(-8);
    return { email: `Person.${n}@Example.test`, phone: `98${n}` };
  };

  async function partner(scopes = ["otp"], settings?: object) {
    const org = await newOrganization(app, { scopes });
    if (settings) await app.db.tenant.update({ where: { id: org.id }, data: { otpSettings: settings } });
    const token = await tokenFor(app, org, { scope: scopes.join(" ") });
    return {
      org,
      token,
      call: (method: "GET" | "POST" | "DELETE", url: string, body?: object) =>
        withBearer(app, token, method, url, body),
    };
  }

  async function signIn(p: Awaited<ReturnType<typeof partner>>, destination: string, channel = "email") {
    const sent = await p.call("POST", "/v1/otp/send", { channel, destination });
    expect(sent.statusCode).toBe(202);
    const { requestId } = sent.json() as { requestId: string };
    const verified = await p.call("POST", "/v1/otp/verify", { requestId, code: await codeFor(destination) });
    expect(verified.statusCode).toBe(200);
    return verified.json() as { userId: string; token: string; expiresIn: number; isNewUser: boolean };
  }

  it("sends a code and answers the same for a person who exists and one who does not", async () => {
    const p = await partner();
    const known = person().email;
    // A person with an account at this organization, who signed in yesterday.
    const account = await signIn(p, known);
    await app.db.otpChallenge.updateMany({
      where: { tenantId: p.org.id },
      data: { createdAt: new Date(Date.now() - 86_400_000) },
    });
    expect(await app.db.pairwiseSubject.count({ where: { id: account.userId, tenantId: p.org.id } })).toBe(1);
    const again = await p.call("POST", "/v1/otp/send", { channel: "email", destination: known });
    // An address never seen anywhere.
    const stranger = await p.call("POST", "/v1/otp/send", { channel: "email", destination: person().email });
    expect(again.statusCode).toBe(202);
    expect(stranger.statusCode).toBe(202);
    const { requestId: knownId, ...knownAnswer } = again.json() as Record<string, unknown>;
    const { requestId: strangerId, ...strangerAnswer } = stranger.json() as Record<string, unknown>;
    expect(knownAnswer).toEqual(strangerAnswer);
    expect(strangerAnswer).toEqual({ channel: "email", expiresIn: 300, resendAfter: 30 });
    expect(String(knownId)).toMatch(/^otp_/);
    expect(String(knownId)).toHaveLength(String(strangerId).length);
    // The same headers with the same values (the length of the body included), apart from the date and
    // the id every request gets.
    const headers = (res: typeof again) => {
      const { date: _date, "x-request-id": id, ...rest } = res.headers;
      expect(String(id)).toMatch(/^req_/);
      return rest;
    };
    expect(headers(again)).toEqual(headers(stranger));
    expect(stranger.headers["cache-control"]).toBe("no-store");
    expect(stranger.headers["retry-after"]).toBeUndefined();
  });

  it("keeps no phone, email or code in the clear", async () => {
    const p = await partner();
    const who = person();
    const sent = await p.call("POST", "/v1/otp/send", { channel: "sms", destination: who.phone });
    const { requestId } = sent.json() as { requestId: string };
    const code = await codeFor(who.phone);
    const row = await app.db.otpChallenge.findUniqueOrThrow({ where: { id: requestId } });
    const stored = JSON.stringify(row);
    expect(stored).not.toContain(who.phone);
    expect(stored).not.toContain(code);
    expect(code).toMatch(/^\d{6}$/);
    const verified = await p.call("POST", "/v1/otp/verify", { requestId, code });
    const { userId } = verified.json() as { userId: string };
    const subject = await app.db.pairwiseSubject.findUniqueOrThrow({
      where: { id: userId },
      include: { endUser: true },
    });
    expect(JSON.stringify(subject)).not.toContain(who.phone);
    expect(subject.endUser.phoneEncrypted).toBeTruthy();
    // The code is no longer held once sent.
    expect((await app.db.otpChallenge.findUniqueOrThrow({ where: { id: requestId } })).codeEncrypted).toBeNull();
  });

  it("gives a pairwise userId and a user token with nothing personal in it", async () => {
    const a = await partner();
    const b = await partner();
    const who = person();
    const first = await signIn(a, who.email);
    expect(first.isNewUser).toBe(true);
    // Past the resend cooldown, as if the person came back later.
    await app.db.otpChallenge.updateMany({
      where: { tenantId: a.org.id },
      data: { createdAt: new Date(Date.now() - 60_000) },
    });
    const again = await signIn(a, who.email.toLowerCase());
    expect(again).toMatchObject({ userId: first.userId, isNewUser: false });
    const elsewhere = await signIn(b, who.email);
    expect(elsewhere.isNewUser).toBe(true);
    expect(elsewhere.userId).not.toBe(first.userId);

    const { header, payload } = decodeJwt(first.token);
    expect(header).toMatchObject({ alg: "EdDSA", typ: "at+jwt" });
    expect(payload).toMatchObject({ sub: first.userId, org: a.org.id, aud: "ipaas-user-api" });
    expect(Number(payload.exp) - Number(payload.iat)).toBe(3600);
    for (const body of [JSON.stringify(first), JSON.stringify(payload)]) {
      expect(body.toLowerCase()).not.toContain(who.email.toLowerCase());
    }
  });

  it("takes the seed's form: channel mobile, the number without its country code, and the code", async () => {
    const p = await partner();
    const who = person();
    const sent = await p.call("POST", "/v1/otp/send", { channel: "mobile", destination: who.phone });
    expect(sent.json()).toMatchObject({ channel: "sms" });
    const code = await codeFor(who.phone);
    const verified = await p.call("POST", "/v1/otp/verify", {
      channel: "mobile",
      destination: `+91${who.phone}`,
      code,
    });
    expect(verified.statusCode).toBe(200);
  });

  it("accepts exactly one of 20 parallel verifications of one code", async () => {
    const p = await partner();
    const { email } = person();
    const sent = await p.call("POST", "/v1/otp/send", { channel: "email", destination: email });
    const { requestId } = sent.json() as { requestId: string };
    const code = await codeFor(email);
    const answers = await Promise.all(
      Array.from({ length: 20 }, () => p.call("POST", "/v1/otp/verify", { requestId, code })),
    );
    expect(answers.filter((r) => r.statusCode === 200)).toHaveLength(1);
    for (const r of answers.filter((a) => a.statusCode !== 200)) expect(r.json().code).toBe("INVALID_CODE");
  });

  it("makes one person of simultaneous first sign-ins at several organizations", async () => {
    const orgs = await Promise.all(Array.from({ length: 6 }, () => partner()));
    for (let round = 0; round < 5; round++) {
      const { email } = person();
      const challenges = [];
      for (const p of orgs) {
        const sent = await p.call("POST", "/v1/otp/send", { channel: "email", destination: email });
        challenges.push({ p, requestId: (sent.json() as { requestId: string }).requestId, code: await codeFor(email) });
      }
      const answers = await Promise.all(
        challenges.map(({ p, requestId, code }) => p.call("POST", "/v1/otp/verify", { requestId, code })),
      );
      expect(answers.map((a) => a.statusCode)).toEqual(orgs.map(() => 200));
      const userIds = answers.map((a) => (a.json() as { userId: string }).userId);
      expect(new Set(userIds).size).toBe(orgs.length);
      const people = await app.db.pairwiseSubject.groupBy({ by: ["endUserId"], where: { id: { in: userIds } } });
      expect(people).toHaveLength(1);
      expect(answers.every((a) => a.json().isNewUser === true)).toBe(true);
    }
  });

  it("answers one INVALID_CODE for wrong, wrong-length, unknown and used codes, and burns a code after five wrong tries", async () => {
    const p = await partner();
    const { email } = person();
    const sent = await p.call("POST", "/v1/otp/send", { channel: "email", destination: email });
    const { requestId } = sent.json() as { requestId: string };
    const code = await codeFor(email);
    const wrong = code === "000000" ? "111111" : "000000";
    const tries = [wrong, "12", "1234567", wrong, wrong];
    for (const attempt of tries) {
      const res = await p.call("POST", "/v1/otp/verify", { requestId, code: attempt });
      expect(res.statusCode).toBe(400);
      expect(res.json().code).toBe("INVALID_CODE");
    }
    const burned = await p.call("POST", "/v1/otp/verify", { requestId, code });
    expect(burned.json().code).toBe("INVALID_CODE");
    const unknown = await p.call("POST", "/v1/otp/verify", { requestId: "otp_nothing", code });
    expect(unknown.json().code).toBe("INVALID_CODE");
  });

  it("binds a code to its own request: request A's code under request B's id, or another organization's, is refused", async () => {
    const p = await partner();
    const other = await partner();
    const [a, b] = [person().email, person().email];
    const requestOf = async (caller: typeof p, destination: string) =>
      ((await caller.call("POST", "/v1/otp/send", { channel: "email", destination })).json() as { requestId: string })
        .requestId;
    const [requestA, requestB] = [await requestOf(p, a), await requestOf(p, b)];
    const [codeA, codeB] = [await codeFor(a), await codeFor(b)];
    const swapped = await p.call("POST", "/v1/otp/verify", { requestId: requestB, code: codeA });
    expect(swapped.statusCode).toBe(400);
    expect(swapped.json().code).toBe("INVALID_CODE");
    // Another organization holding the right pair gets nothing either.
    const foreign = await other.call("POST", "/v1/otp/verify", { requestId: requestA, code: codeA });
    expect(foreign.json().code).toBe("INVALID_CODE");
    // Neither refusal spent the requests: each code still works under its own id.
    expect((await p.call("POST", "/v1/otp/verify", { requestId: requestA, code: codeA })).statusCode).toBe(200);
    expect((await p.call("POST", "/v1/otp/verify", { requestId: requestB, code: codeB })).statusCode).toBe(200);
  });

  it("refuses the right code once it has expired", async () => {
    const p = await partner(["otp"], { ttlSeconds: 60 });
    const { email } = person();
    const sent = await p.call("POST", "/v1/otp/send", { channel: "email", destination: email });
    const { requestId, expiresIn } = sent.json() as { requestId: string; expiresIn: number };
    expect(expiresIn).toBe(60);
    const code = await codeFor(email);
    const row = await app.db.otpChallenge.findUniqueOrThrow({ where: { id: requestId } });
    expect(Math.abs(row.expiresAt.getTime() - row.createdAt.getTime() - 60_000)).toBeLessThan(1_000);
    // As if the minute had passed.
    await app.db.otpChallenge.update({ where: { id: requestId }, data: { expiresAt: new Date(Date.now() - 1) } });
    const late = await p.call("POST", "/v1/otp/verify", { requestId, code });
    expect(late.statusCode).toBe(400);
    expect(late.json().code).toBe("INVALID_CODE");
  });

  it("refuses a second code to one destination within 30 s, writing nothing", async () => {
    const p = await partner();
    const destination = person().email;
    expect((await p.call("POST", "/v1/otp/send", { channel: "email", destination })).statusCode).toBe(202);
    const before = await app.db.otpChallenge.count({ where: { tenantId: p.org.id } });
    const again = await p.call("POST", "/v1/otp/send", { channel: "email", destination });
    expect(again.statusCode).toBe(429);
    expect(Number(again.headers["retry-after"])).toBeGreaterThan(0);
    expect(await app.db.otpChallenge.count({ where: { tenantId: p.org.id } })).toBe(before);
  });

  it("holds the daily budget and the cap on numbers of one range", async () => {
    const budget = await partner(["otp"], { dailyBudget: 2 });
    for (const expected of [202, 202, 429]) {
      const res = await budget.call("POST", "/v1/otp/send", { channel: "email", destination: person().email });
      expect(res.statusCode).toBe(expected);
    }
    const pumping = await partner();
    const range = `+9198${String(Date.now()).slice(-4)}`;
    const statuses: number[] = [];
    for (let i = 0; i < 21; i++) {
      const res = await pumping.call("POST", "/v1/otp/send", {
        channel: "sms",
        destination: `${range}${String(i).padStart(4, "0")}`,
      });
      statuses.push(res.statusCode);
    }
    expect(statuses.slice(0, 20).every((s) => s === 202)).toBe(true);
    expect(statuses[20]).toBe(429);
  });

  it("caps the codes asked for from one address of the person, an IPv6 address by its /64", async () => {
    const p = await partner();
    const send = (endUserIp: string) =>
      p.call("POST", "/v1/otp/send", { channel: "email", destination: person().email, endUserIp });
    const network = `2001:db8:${(Date.now() % 0xffff).toString(16)}:1`;
    const statuses: number[] = [];
    for (let i = 0; i < 31; i++) statuses.push((await send(`${network}::${i.toString(16)}`)).statusCode);
    expect(statuses.slice(0, 30).every((s) => s === 202)).toBe(true);
    expect(statuses[30]).toBe(429);
    const refused = await send(`${network}:ffff::1`);
    expect(refused.statusCode).toBe(429);
    expect(Number(refused.headers["retry-after"])).toBeGreaterThan(0);
    // Another network, and the backend's own calls without an address, are not held by it.
    expect((await send("203.0.113.7")).statusCode).toBe(202);
    expect((await p.call("POST", "/v1/otp/send", { channel: "email", destination: person().email })).statusCode).toBe(
      202,
    );
    const nonsense = await send("not-an-address");
    expect(nonsense.statusCode).toBe(400);
    expect(nonsense.json().errors).toEqual([{ field: "endUserIp", message: "not an IP address" }]);
    // Nothing of the address is kept with the challenge.
    const rows = await app.db.otpChallenge.findMany({ where: { tenantId: p.org.id } });
    expect(JSON.stringify(rows)).not.toContain("2001:db8");
  });

  it("refuses a channel or a country the organization has not enabled, and a number that is not one", async () => {
    const p = await partner();
    const whatsapp = await p.call("POST", "/v1/otp/send", { channel: "whatsapp", destination: "+919876543210" });
    expect(whatsapp.statusCode).toBe(403);
    expect(whatsapp.json().code).toBe("CHANNEL_NOT_ALLOWED");
    const abroad = await p.call("POST", "/v1/otp/send", { channel: "sms", destination: "+1 415 555 2671" });
    expect(abroad.statusCode).toBe(403);
    expect(abroad.json().code).toBe("COUNTRY_NOT_ALLOWED");
    const nonsense = await p.call("POST", "/v1/otp/send", { channel: "sms", destination: "123" });
    expect(nonsense.statusCode).toBe(400);
    expect(nonsense.json().code).toBe("INVALID_DESTINATION");
    const pigeon = await p.call("POST", "/v1/otp/send", { channel: "pigeon", destination: "x@example.test" });
    expect(pigeon.statusCode).toBe(400);
  });

  it("lets in only a partner token that grants otp; a user token is no partner token", async () => {
    const p = await partner(["read_bills"]);
    const noScope = await p.call("POST", "/v1/otp/send", { channel: "email", destination: person().email });
    expect(noScope.statusCode).toBe(403);
    expect(noScope.json().code).toBe("INSUFFICIENT_SCOPE");
    const anonymous = await app.inject({
      method: "POST",
      url: "/v1/otp/send",
      payload: { channel: "email", destination: "a@b.test" },
    });
    expect(anonymous.statusCode).toBe(401);
    const q = await partner();
    const user = await signIn(q, person().email);
    const asUser = await withBearer(app, user.token, "POST", "/v1/otp/send", {
      channel: "email",
      destination: person().email,
    });
    expect(asUser.statusCode).toBe(401);
  });

  it("says whether a user token is active, for the organization's own users only, until the user is forgotten", async () => {
    const a = await partner();
    const b = await partner();
    const user = await signIn(a, person().email);
    const status = await a.call("POST", "/v1/otp/token-status", { token: user.token });
    expect(status.json()).toMatchObject({ active: true, userId: user.userId });
    expect((await b.call("POST", "/v1/otp/token-status", { token: user.token })).json()).toEqual({ active: false });
    expect((await a.call("POST", "/v1/otp/token-status", { token: a.token })).json()).toEqual({ active: false });

    expect((await b.call("DELETE", `/v1/end-users/${user.userId}`)).statusCode).toBe(404);
    expect((await a.call("DELETE", `/v1/end-users/${user.userId}`)).statusCode).toBe(204);
    expect((await a.call("POST", "/v1/otp/token-status", { token: user.token })).json()).toEqual({ active: false });
    expect(await app.db.pairwiseSubject.count({ where: { id: user.userId } })).toBe(0);
  });

  it("holds each kind of token to its own lifetime: a two-hour user token is active, a partner token never lives that long", async () => {
    const p = await partner(["otp"], { userTokenTtlSeconds: 7200 });
    const user = await signIn(p, person().email);
    expect(user.expiresIn).toBe(7200);
    expect((await p.call("POST", "/v1/otp/token-status", { token: user.token })).json()).toMatchObject({
      active: true,
    });
    const { payload } = decodeJwt(p.token);
    expect(Number(payload.exp) - Number(payload.iat)).toBeLessThanOrEqual(3600);
  });

  it("reports a request's delivery state to its organization only, without the destination", async () => {
    const a = await partner();
    const b = await partner();
    const destination = person().email;
    const sent = await a.call("POST", "/v1/otp/send", { channel: "email", destination });
    const { requestId } = sent.json() as { requestId: string };
    const state = await a.call("GET", `/v1/otp/requests/${requestId}`);
    expect(state.json()).toMatchObject({ requestId, channel: "email", status: "queued", sentAt: null });
    expect(state.body.toLowerCase()).not.toContain(destination.toLowerCase());
    expect((await b.call("GET", `/v1/otp/requests/${requestId}`)).statusCode).toBe(404);
  });

  it("sends the organization not one byte of the person's phone, email or name, across the whole flow", async () => {
    const p = await partner();
    const who = person();
    const e164 = `+91${who.phone}`;
    const bodies: string[] = [];
    const call = async (method: "GET" | "POST" | "DELETE", url: string, body?: object) => {
      const res = await p.call(method, url, body);
      bodies.push(res.body, JSON.stringify(res.headers));
      return res;
    };
    // Signed in by phone; the person then adds an email and a name from their device.
    const sent = await call("POST", "/v1/otp/send", { channel: "sms", destination: who.phone });
    const { requestId } = sent.json() as { requestId: string };
    await call("GET", `/v1/otp/requests/${requestId}`);
    const verified = await call("POST", "/v1/otp/verify", { requestId, code: await codeFor(who.phone) });
    const { userId, token } = verified.json() as { userId: string; token: string };
    const device = (method: "POST" | "PATCH", url: string, payload: object) =>
      app.inject({ method, url, headers: { authorization: `Bearer ${token}` }, payload });
    await device("PATCH", "/v1/users/me", { name: "Meera Iyer" });
    const email = who.email.toLowerCase();
    const change = await device("POST", "/v1/users/me/contact", { channel: "email", destination: email });
    const changeId = (change.json() as { requestId: string }).requestId;
    expect(
      (await device("POST", "/v1/users/me/contact/verify", { requestId: changeId, code: await codeFor(email) }))
        .statusCode,
    ).toBe(200);
    await call("GET", `/v1/otp/requests/${changeId}`);
    await call("POST", "/v1/otp/token-status", { token });
    await call("DELETE", `/v1/end-users/${userId}`);
    const seen = bodies.join("\n").toLowerCase();
    for (const secret of [who.phone, e164, email, "meera", "iyer"]) expect(seen).not.toContain(secret.toLowerCase());
    // The token handed to the device says nothing about the person either.
    expect(
      Buffer.from(token.split(".")[1] ?? "", "base64url")
        .toString()
        .toLowerCase(),
    ).not.toMatch(/meera|@|\+91/);
  });
});
