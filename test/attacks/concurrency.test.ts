// Every single-use secret of the platform works once even when it is raced: the same TOTP code, recovery
// code, refresh token, password reset token or end-user one-time code, sent in 20 requests at once, signs
// in (or resets) exactly once. The other 19 are refused with the service's own 4xx problem for a used
// secret, never a 5xx, and the database holds exactly one resulting session, token or password.
import { PROBLEM_CONTENT_TYPE } from "@ipaas/service-kit";
import {
  buildDashboard,
  buildDeliveryWorld,
  type DeliveryWorld,
  decodeJwt,
  enrolledUser,
  loginAs,
  newOrganization,
  PASSWORD,
  post,
  resetTokenIn,
  SmtpSink,
  tokenFor,
  totp,
  waitFor,
  withBearer,
} from "@ipaas/testing";
import type { FastifyInstance, LightMyRequestResponse } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LeakWatch } from "./leaks";

const PARALLEL = 20;
/** Both apps log everything; at the end, no secret raced here may be in a line. */
const leaks = new LeakWatch();

/** Sends PARALLEL requests at once (request `i` made by `send(i)`) and sorts the answers. */
async function race(send: (i: number) => Promise<LightMyRequestResponse>) {
  const answers = await Promise.all(Array.from({ length: PARALLEL }, (_, i) => send(i)));
  const statuses = answers.map((a) => a.statusCode);
  const winners = answers.flatMap((a, i) => (a.statusCode === 200 ? [i] : []));
  expect(winners, `statuses: ${statuses.join(" ")}`).toHaveLength(1);
  const winner = winners[0] as number;
  return {
    winner,
    won: answers[winner] as LightMyRequestResponse,
    refused: answers.filter((a) => a.statusCode !== 200),
  };
}

/** Every refusal is the same problem document: `status` and `code`, as application/problem+json. */
function expectRefusedAs(refused: LightMyRequestResponse[], status: number, code: string) {
  const seen = refused.map((r) => {
    const body = r.json() as { code?: string; status?: number };
    return `${r.statusCode} ${body.code} ${body.status} ${String(r.headers["content-type"]).split(";")[0]}`;
  });
  expect(seen).toEqual(Array(PARALLEL - 1).fill(`${status} ${code} ${status} ${PROBLEM_CONTENT_TYPE}`));
}

describe("dashboard secrets raced by 20 requests at once", () => {
  let app: FastifyInstance;
  let smtp: SmtpSink;
  beforeAll(async () => {
    smtp = await SmtpSink.start();
    app = await buildDashboard(
      { SMTP_URL: smtp.url, DASHBOARD_UI_URL: "https://dashboard.example.test", LOG_LEVEL: "trace" },
      leaks.logs,
    );
  });
  afterAll(async () => {
    await app.close();
    await smtp.close();
  });

  /**
   * A login with `code` from its own address: one address gets two places in the password hashing and
   * five tries before its gate slows it (429), so from one address most requests would be turned away
   * before their code is ever looked at. From 20 addresses every request reaches the second factor.
   */
  const loginFrom = (i: number, user: { email: string }, code: string) =>
    app.inject({
      method: "POST",
      url: "/v1/auth/login",
      payload: { email: user.email, password: PASSWORD, code },
      remoteAddress: `10.77.${i}.1`,
    });

  /** The user's sessions, and that the winner's access token names the one live session. */
  async function expectOneSessionFor(userId: string, token: string, mfaMethod: string) {
    const sessions = await app.db.session.findMany({ where: { userId }, include: { refreshTokens: true } });
    expect(sessions).toHaveLength(1);
    const [session] = sessions;
    expect(session).toMatchObject({ id: decodeJwt(token).payload.sid, endedAt: null, mfaMethod });
    expect(session?.refreshTokens).toHaveLength(1);
    expect((await post(app, "/v1/auth/verify-token", undefined, token)).statusCode).toBe(200);
  }

  it("accepts a TOTP code at login once: one session, 19 logins refused with 401 INVALID_TWO_FACTOR_CODE", async () => {
    const user = await enrolledUser(app);
    expect(await app.db.session.count({ where: { userId: user.userId } })).toBe(0);
    const code = totp(user.secret, Date.now() + 30_000);
    leaks.sent(user.secret, code);

    const { won, refused } = await race((i) => loginFrom(i, user, code));

    expectRefusedAs(refused, 401, "INVALID_TWO_FACTOR_CODE");
    await expectOneSessionFor(user.userId, (won.json() as { token: string }).token, "totp");
  });

  it("accepts a recovery code at login once: one session, 19 logins refused with 401 INVALID_TWO_FACTOR_CODE", async () => {
    const user = await enrolledUser(app);
    const code = user.recoveryCodes[0] as string;
    leaks.sent(code);

    const { won, refused } = await race((i) => loginFrom(i, user, code));

    expectRefusedAs(refused, 401, "INVALID_TWO_FACTOR_CODE");
    await expectOneSessionFor(user.userId, (won.json() as { token: string }).token, "recovery_code");
    const codes = await app.db.recoveryCode.findMany({ where: { userId: user.userId } });
    expect(codes.filter((c) => c.usedAt !== null)).toHaveLength(1);
    expect(codes).toHaveLength(user.recoveryCodes.length);
  });

  it("exchanges a refresh token once: one new refresh token, 19 refused with 401 INVALID_REFRESH_TOKEN", async () => {
    const user = await enrolledUser(app);
    const session = await loginAs(app, user);
    leaks.sent(session.refreshToken);
    const [original] = await app.db.refreshToken.findMany({ where: { session: { userId: user.userId } } });

    const { won, refused } = await race(() => post(app, "/v1/auth/refresh", { refreshToken: session.refreshToken }));

    expectRefusedAs(refused, 401, "INVALID_REFRESH_TOKEN");
    // Exactly one new token was made from the raced one, and the raced one is used.
    const tokens = await app.db.refreshToken.findMany({ where: { session: { userId: user.userId } } });
    expect(tokens).toHaveLength(2);
    expect(tokens.filter((t) => t.parentId === original?.id)).toHaveLength(1);
    expect(tokens.find((t) => t.id === original?.id)?.usedAt).not.toBeNull();
    // The losers presented a token already used, which is how a stolen copy looks: the session ends, as
    // /v1/auth/refresh documents, and with it what the winner was given.
    const sessions = await app.db.session.findMany({ where: { userId: user.userId } });
    expect(sessions).toHaveLength(1);
    expect(sessions[0]).toMatchObject({ endReason: "refresh_token_reused", endedAt: expect.any(Date) });
    const next = won.json() as { token: string; refreshToken: string };
    expect((await post(app, "/v1/auth/refresh", { refreshToken: next.refreshToken })).statusCode).toBe(401);
    expect((await post(app, "/v1/auth/verify-token", undefined, next.token)).statusCode).toBe(401);
  });

  it("resets a password with a reset token once: the winner's password is set, 19 refused with 400 INVALID_RESET_TOKEN", async () => {
    const user = await enrolledUser(app);
    const before = await loginAs(app, user);
    expect((await post(app, "/v1/auth/forgot-password", { email: user.email })).statusCode).toBe(202);
    const mail = await waitFor("the reset e-mail", () => smtp.to(user.email)[0]);
    const token = resetTokenIn(mail.text);
    const passwords = Array.from({ length: PARALLEL }, (_, i) => `racer number ${i} picks this passphrase`);
    leaks.sent(token, ...passwords);

    const { winner, refused } = await race((i) =>
      post(app, "/v1/auth/reset-password", { token, password: passwords[i] }),
    );

    expectRefusedAs(refused, 400, "INVALID_RESET_TOKEN");
    const { passwordHash } = await app.db.user.findUniqueOrThrow({ where: { id: user.userId } });
    const matching: number[] = [];
    for (const [i, password] of [...passwords, PASSWORD].entries()) {
      if (await app.passwords.verify(passwordHash, password)) matching.push(i);
    }
    expect(matching).toEqual([winner]);
    const tokens = await app.db.passwordResetToken.findMany({ where: { userId: user.userId } });
    expect(tokens).toHaveLength(1);
    expect(tokens[0]?.usedAt).not.toBeNull();
    const resets = await app.db.auditEvent.count({
      where: { actorId: user.userId, action: "auth.password_reset", outcome: "success" },
    });
    expect(resets).toBe(1);
    // The reset ended the session started before it, and started none.
    expect(await app.db.session.findMany({ where: { userId: user.userId } })).toEqual([
      expect.objectContaining({ endReason: "password_reset", endedAt: expect.any(Date) }),
    ]);
    expect((await post(app, "/v1/auth/verify-token", undefined, before.token)).statusCode).toBe(401);
    const withWinners = await post(app, "/v1/auth/login", { email: user.email, password: passwords[winner] });
    expect(withWinners.json()).toMatchObject({ code: "TWO_FACTOR_REQUIRED" });
  });
});

describe("an end-user one-time code raced by 20 verifications at once", () => {
  let world: DeliveryWorld;
  let app: FastifyInstance;
  beforeAll(async () => {
    world = await buildDeliveryWorld({ LOG_LEVEL: "trace" }, leaks.logs);
    app = world.app;
  });
  afterAll(() => world.close());

  it("signs the person in once: one userId and one active token, 19 refused with 400 INVALID_CODE", async () => {
    const org = await newOrganization(app, { scopes: ["otp"] });
    const partnerToken = await tokenFor(app, org, { scope: "otp" });
    const call = (url: string, body: object) => withBearer(app, partnerToken, "POST", url, body);
    const destination = `racer.${Date.now().toString(36)}@example.test`;
    const sent = await call("/v1/otp/send", { channel: "email", destination });
    expect(sent.statusCode).toBe(202);
    const { requestId } = sent.json() as { requestId: string };
    // The code as the person reads it in the e-mail.
    const code = await world.nextCode(destination);
    leaks.sent(code, org.clientSecret);

    const { won, refused } = await race(() => call("/v1/otp/verify", { requestId, code }));

    expectRefusedAs(refused, 400, "INVALID_CODE");
    const signedIn = won.json() as { userId: string; token: string; isNewUser: boolean };
    expect(signedIn.isNewUser).toBe(true);
    const subjects = await app.db.pairwiseSubject.findMany({ where: { tenantId: org.id } });
    expect(subjects.map((s) => s.id)).toEqual([signedIn.userId]);
    expect(await app.db.endUser.count({ where: { id: subjects[0]?.endUserId } })).toBe(1);
    // Used by the one try that won; the refused ones found it closed and counted nothing.
    const challenge = await app.db.otpChallenge.findUniqueOrThrow({ where: { id: requestId } });
    expect(challenge).toMatchObject({ consumedAt: expect.any(Date), attempts: 1 });
    const status = await call("/v1/otp/token-status", { token: signedIn.token });
    expect(status.json()).toMatchObject({ active: true, userId: signedIn.userId });
  });
});

describe("the logs of the races", () => {
  it("hold no code, token, password or address that was raced", async () => {
    const { lines, found } = await leaks.recorded("concurrency");
    expect(lines).toBeGreaterThan(50);
    expect(found).toEqual([]);
  });
});
