// ipaas-nodejs against the real api-auth and dashboard-auth, over HTTP: the organization's API key from the
// dashboard, codes read where the person would read them (the SMTP server, the development provider's log).

import { buildSdkWorld, type SdkWorld, waitFor } from "@ipaas/testing";
import { SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import ipaas, { IpaasError } from "../src/index";

describe("ipaas-nodejs", () => {
  let world: SdkWorld;
  beforeAll(async () => {
    world = await buildSdkWorld();
  });
  afterAll(() => world?.close());

  let counter = 0;
  const newEmail = () => `sdk.${Date.now()}.${++counter}@example.test`;
  const newPhone = () => `+9198${String(Date.now() + ++counter).slice(-8)}`;

  /** A `fetch` that counts the token requests going through it. */
  function countingFetch() {
    const counts = { token: 0, jwks: 0 };
    const fetchImpl: typeof fetch = (input, init) => {
      const url = String(input instanceof Request ? input.url : input);
      if (url.endsWith("/v1/auth/token")) counts.token += 1;
      if (url.endsWith("/jwks.json")) counts.jwks += 1;
      return fetch(input, init);
    };
    return { counts, fetchImpl };
  }

  const failureOf = async (promise: Promise<unknown>): Promise<IpaasError> => {
    const error = await promise.then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(IpaasError);
    return error as IpaasError;
  };

  it("signs a person in by email and by SMS, as the seed's example does, and keeps the API's field names", async () => {
    const org = await world.organization();
    const client = ipaas(org.apiKey, { baseUrl: world.baseUrl });
    const email = newEmail();
    const sent = await client.auth().sendOtp("email", email);
    expect(Object.keys(sent).sort()).toEqual(["channel", "expiresIn", "requestId", "resendAfter"]);
    const verified = await client.auth().verifyOtp({ requestId: sent.requestId, code: await world.nextCode(email) });
    expect(verified).toMatchObject({ tokenType: "Bearer", isNewUser: true, expiresIn: 3600 });
    expect(verified.userId).toMatch(/^sub_/);

    const phone = newPhone();
    const bySms = await ipaas(org.apiKey, { baseUrl: world.baseUrl }).auth().sendOtp("mobile", phone);
    expect(bySms.channel).toBe("sms");
    const code = await world.nextCode(phone);
    const signedIn = await ipaas(org.apiKey, { baseUrl: world.baseUrl }).auth().verifyOtp("mobile", phone, code);
    expect(signedIn.isNewUser).toBe(true);

    expect(await client.auth().tokenStatus(signedIn.token)).toMatchObject({ active: true, userId: signedIn.userId });
    expect((await client.auth().requestStatus(bySms.requestId)).status).toBe("sent");
    await client.auth().forgetUser(signedIn.userId);
    expect(await client.auth().tokenStatus(signedIn.token)).toEqual({ active: false });
  });

  it("fetches one partner token for a hundred calls, concurrent ones included, even with ipaas(apiKey) per call", async () => {
    const org = await world.organization();
    const { counts, fetchImpl } = countingFetch();
    const options = { baseUrl: world.baseUrl, fetch: fetchImpl };
    await Promise.all(Array.from({ length: 50 }, () => ipaas(org.apiKey, options).auth().tokenStatus("not-a-token")));
    for (let i = 0; i < 50; i++) await ipaas(org.apiKey, options).auth().tokenStatus("not-a-token");
    expect(counts.token).toBe(1);
  });

  it("throws typed errors: a wrong code, a rate limit with its Retry-After, a revoked API key", async () => {
    const org = await world.organization();
    const auth = ipaas(org.apiKey, { baseUrl: world.baseUrl }).auth();
    const email = newEmail();
    const sent = await auth.sendOtp("email", email);
    const wrong = await failureOf(auth.verifyOtp({ requestId: sent.requestId, code: "000000" }));
    expect(wrong).toMatchObject({ code: "INVALID_CODE", status: 400 });
    expect(wrong.requestId).toBeTruthy();

    const limited = await failureOf(auth.sendOtp("email", email));
    expect(limited).toMatchObject({ code: "RATE_LIMITED", status: 429 });
    expect(limited.retryAfter).toBeGreaterThan(0);

    // The secret is rotated and the tokens issued so far revoked: once api-auth has the event (moments),
    // the cached token is refused, the library asks for a new one once, and the old key gets none.
    const newApiKey = await org.rotate();
    const revoked = await waitFor("the rotation at api-auth", () =>
      auth.tokenStatus("not-a-token").then(
        () => null,
        (error: unknown) => error,
      ),
    );
    expect(revoked).toBeInstanceOf(IpaasError);
    expect(revoked).toMatchObject({ code: "INVALID_CLIENT", status: 401 });
    const renewed = ipaas(newApiKey, { baseUrl: world.baseUrl }).auth();
    expect(await renewed.tokenStatus("not-a-token")).toEqual({ active: false });
  });

  it("refuses an API key that is not one before any call", () => {
    for (const apiKey of ["", "sk_live_123", `ipaas_sk_${"g".repeat(32)}_abc`, undefined as unknown as string]) {
      expect(() => ipaas(apiKey), String(apiKey)).toThrow(IpaasError);
    }
  });

  it("verifies user tokens locally against the published keys, and refuses a tampered or another organization's", async () => {
    const org = await world.organization();
    const other = await world.organization();
    const { counts, fetchImpl } = countingFetch();
    const auth = ipaas(org.apiKey, { baseUrl: world.baseUrl, fetch: fetchImpl }).auth();
    const email = newEmail();
    const sent = await auth.sendOtp("email", email);
    const { token, userId } = await auth.verifyOtp({ requestId: sent.requestId, code: await world.nextCode(email) });
    const verified = await auth.verifyUserToken(token);
    expect(verified).toMatchObject({ userId, organizationId: org.orgId });
    expect(verified.expiresAt.getTime()).toBeGreaterThan(Date.now());
    for (let i = 0; i < 10; i++) await auth.verifyUserToken(token);
    expect(counts.jwks).toBe(1);

    const [header, payload, signature] = token.split(".") as [string, string, string];
    const claims = JSON.parse(Buffer.from(payload, "base64url").toString("utf8"));
    const forged = Buffer.from(JSON.stringify({ ...claims, sub: "sub_someone_else" })).toString("base64url");
    const tampered = await failureOf(auth.verifyUserToken(`${header}.${forged}.${signature}`));
    expect(tampered).toMatchObject({ code: "INVALID_TOKEN", status: 401 });
    expect((await failureOf(auth.verifyUserToken("not-a-token"))).code).toBe("INVALID_TOKEN");

    // Signed by api-auth's own key: accepted as issued, refused once issued more than a day ago (the longest a
    // user token lives) although it has not expired.
    const { alg, kid, typ } = JSON.parse(Buffer.from(header, "base64url").toString("utf8"));
    const key = world.api.signingKeys.signingKey(alg);
    expect(key.kid).toBe(kid);
    const resign = (iat: number, exp: number) =>
      new SignJWT({ ...claims, iat, exp }).setProtectedHeader({ alg, kid, typ }).sign(key.privateKey);
    expect(await auth.verifyUserToken(await resign(claims.iat, claims.exp))).toMatchObject({ userId });
    const now = Math.floor(Date.now() / 1000);
    const old = await failureOf(auth.verifyUserToken(await resign(now - 86_400 - 60, now + 600)));
    expect(old).toMatchObject({ code: "INVALID_TOKEN", status: 401 });

    const theirs = ipaas(other.apiKey, { baseUrl: world.baseUrl }).auth();
    const otherEmail = newEmail();
    const otherSent = await theirs.sendOtp("email", otherEmail);
    const theirToken = await theirs.verifyOtp({
      requestId: otherSent.requestId,
      code: await world.nextCode(otherEmail),
    });
    expect((await failureOf(auth.verifyUserToken(theirToken.token))).code).toBe("INVALID_TOKEN");
  });

  it("reports an unreachable service as a network error, after retrying only what is safe to repeat", async () => {
    const org = await world.organization();
    let calls = 0;
    const failing: typeof fetch = async () => {
      calls += 1;
      throw new TypeError("fetch failed");
    };
    const auth = ipaas(org.apiKey, { baseUrl: world.baseUrl, fetch: failing, retries: 2 }).auth();
    const unreachable = await failureOf(auth.tokenStatus("not-a-token"));
    expect(unreachable).toMatchObject({ code: "NETWORK_ERROR", status: 0 });
    // The token request is safe to repeat: three tries.
    expect(calls).toBe(3);
  });

  it("never sends a code twice: a send that failed on the way is reported, not retried", async () => {
    const org = await world.organization();
    const sends: string[] = [];
    // The token request goes through; every send reaches the service, whose answer is then lost.
    const losing: typeof fetch = async (input, init) => {
      const url = String(input);
      const res = await fetch(input, init);
      if (url.endsWith("/v1/otp/send")) {
        sends.push(url);
        throw new TypeError("connection reset");
      }
      return res;
    };
    const auth = ipaas(org.apiKey, { baseUrl: world.baseUrl, fetch: losing, retries: 3 }).auth();
    const lost = await failureOf(auth.sendOtp("email", newEmail()));
    expect(lost.code).toBe("NETWORK_ERROR");
    expect(sends).toHaveLength(1);
  });
});
