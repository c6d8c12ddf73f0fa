import type { Db, TenantKind } from "@ipaas/db";
import { type AuditEntry, type TokenService, writeAudit } from "@ipaas/service-kit";
import { fail } from "../errors";
import type { Passwords } from "./passwords";
import { durationLabel, type IssuedSession, isActiveTenant, type Origin, type Sessions } from "./sessions";
import { SecondFactorRefused, type TwoFactor } from "./two-factor";

/** The short-lived token that only the two 2FA set-up routes accept. */
export const SETUP_TOKEN = { typ: "2fa-setup+jwt", audience: "ipaas-dashboard-2fa-setup", ttlSeconds: 600 } as const;

/** After this many wrong passwords in a row, the account locks for a while that doubles each time. */
const LOCKOUT_THRESHOLD = 5;
const FIRST_LOCKOUT_MS = 60_000;
const MAX_LOCKOUT_MS = 60 * 60_000;

export type LoginOutcome =
  | { kind: "session"; session: IssuedSession }
  | { kind: "setup"; setupToken: string; expiredIn: string };

export interface LoginInput {
  email: string;
  password: string;
  code?: string | undefined;
}

/**
 * Password, then the mandatory second factor. Wrong email and wrong password are indistinguishable:
 * same error, and an unknown account still pays for one argon2 verification.
 */
export class Login {
  constructor(
    private readonly db: Db,
    private readonly passwords: Passwords,
    private readonly twoFactor: TwoFactor,
    private readonly sessions: Sessions,
    private readonly tokens: TokenService,
  ) {}

  async login(input: LoginInput, allowedKinds: readonly TenantKind[], origin: Origin): Promise<LoginOutcome> {
    const email = input.email.trim().toLowerCase();
    const user = await this.db.user.findUnique({ where: { email }, include: { tenant: true } });
    const now = Date.now();
    const eligible = user !== null && user.deletedAt === null && allowedKinds.includes(user.tenant.kind);
    const locked = eligible && user.lockedUntil !== null && user.lockedUntil.getTime() > now;

    const passwordOk = await this.passwords.verify(eligible && !locked ? user.passwordHash : null, input.password);
    if (!eligible || locked || !passwordOk) {
      const reason = !eligible ? "unknown_account" : locked ? "locked" : "wrong_password";
      if (eligible && !locked) await this.#countFailure(user.id, user.failedLoginCount + 1, now);
      await this.#audit(
        { action: "auth.login", outcome: "failure", details: { reason } },
        eligible ? user : null,
        origin,
      );
      throw fail("INVALID_CREDENTIALS");
    }
    if (user.failedLoginCount > 0) {
      await this.db.user.update({ where: { id: user.id }, data: { failedLoginCount: 0, lockedUntil: null } });
    }
    if (user.status !== "ACTIVE" || !isActiveTenant(user.tenant)) {
      await this.#audit({ action: "auth.login", outcome: "failure", details: { reason: "disabled" } }, user, origin);
      throw fail("FORBIDDEN", "this account is disabled");
    }

    const enrolment = await this.twoFactor.enrolment(user.id);
    if (!enrolment?.confirmedAt) {
      const { token } = this.tokens.sign(
        { tid: user.tenantId },
        {
          typ: SETUP_TOKEN.typ,
          audience: SETUP_TOKEN.audience,
          subject: user.id,
          ttlSeconds: SETUP_TOKEN.ttlSeconds,
        },
      );
      await this.#audit(
        { action: "auth.login", outcome: "success", details: { stage: "2fa_setup_required" } },
        user,
        origin,
      );
      return { kind: "setup", setupToken: token, expiredIn: durationLabel(SETUP_TOKEN.ttlSeconds) };
    }

    if (!input.code) {
      await this.#audit(
        { action: "auth.login", outcome: "failure", details: { reason: "2fa_required" } },
        user,
        origin,
      );
      throw fail("TWO_FACTOR_REQUIRED");
    }
    let method: string;
    try {
      method = (await this.twoFactor.check(enrolment, input.code)).method;
    } catch (error) {
      if (!(error instanceof SecondFactorRefused)) throw error;
      await this.#audit({ action: "auth.2fa", outcome: "failure", details: { reason: error.code } }, user, origin);
      if (error.justLocked) {
        await this.#audit(
          { action: "auth.2fa_disabled", outcome: "success", details: { reason: "too_many_failures" } },
          user,
          origin,
        );
      }
      throw fail(error.code);
    }
    const session = await this.sessions.start(user.id, origin, method);
    await this.#audit(
      { action: "auth.login", outcome: "success", details: { mfa: method, sessionId: session.sessionId } },
      user,
      origin,
    );
    return { kind: "session", session };
  }

  async #countFailure(userId: string, failures: number, now: number): Promise<void> {
    const over = failures - LOCKOUT_THRESHOLD;
    const lockedUntil = over >= 0 ? new Date(now + Math.min(FIRST_LOCKOUT_MS * 2 ** over, MAX_LOCKOUT_MS)) : undefined;
    await this.db.user.update({
      where: { id: userId },
      data: { failedLoginCount: { increment: 1 }, ...(lockedUntil ? { lockedUntil } : {}) },
    });
  }

  async #audit(
    entry: Omit<AuditEntry, "actorType" | "actorId" | "tenantId">,
    user: { id: string; tenantId: string } | null,
    origin: Origin,
  ): Promise<void> {
    await writeAudit(
      this.db,
      {
        ...entry,
        actorType: user ? "user" : "anonymous",
        actorId: user?.id ?? null,
        tenantId: user?.tenantId ?? null,
      },
      origin,
    );
  }
}
