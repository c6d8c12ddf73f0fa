import type { Db, TenantKind } from "@ipaas/db";
import { type AuditEntry, writeAudit } from "@ipaas/domain";
import type { TokenService } from "@ipaas/service-kit";
import { fail } from "../../errors";
import type { Passwords } from "../passwords/passwords";
import { findSignInUser, signedInFrom } from "../sessions/repository";
import {
  durationLabel,
  type IssuedSession,
  type Origin,
  type Sessions,
  tenantAllowsSignIn,
} from "../sessions/sessions";
import { SecondFactorRefused, type TwoFactor } from "../two-factor/two-factor";
import type { AttemptGates } from "./attempt-gates";

/** The short-lived token that only the two 2FA set-up routes accept. */
export const SETUP_TOKEN = { typ: "2fa-setup+jwt", audience: "ipaas-dashboard-2fa-setup", ttlSeconds: 600 } as const;

/** An address the user completed a sign-in from this recently is familiar: the account-wide gate spares it. */
const FAMILIAR_MS = 30 * 86_400_000;

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
 * same error, and an unknown account still pays for one argon2 verification. Guessing is slowed by
 * attempt gates counted before the password is checked, never by a lock a stranger could set off.
 */
export class Login {
  constructor(
    private readonly db: Db,
    private readonly passwords: Passwords,
    private readonly twoFactor: TwoFactor,
    private readonly sessions: Sessions,
    private readonly tokens: TokenService,
    private readonly gates: AttemptGates,
  ) {}

  async login(input: LoginInput, allowedKinds: readonly TenantKind[], origin: Origin): Promise<LoginOutcome> {
    const email = input.email.trim().toLowerCase();
    const address = origin.ip ?? "unknown";
    const user = await findSignInUser(this.db, email);
    const eligible = user !== null && user.deletedAt === null && allowedKinds.includes(user.tenant.kind);
    // Asked for unknown accounts too (with an id that matches nothing), so both cost the same.
    const familiar = await signedInFrom(this.db, eligible ? user.id : "", address, new Date(Date.now() - FAMILIAR_MS));
    try {
      await this.gates.admitPassword(email, address, familiar);
    } catch (error) {
      await this.#audit(
        { action: "auth.login", outcome: "failure", details: { reason: "throttled" } },
        eligible ? user : null,
        origin,
      );
      throw error;
    }

    const passwordOk = await this.passwords.verify(eligible ? user.passwordHash : null, input.password, address);
    if (!eligible || !passwordOk) {
      const reason = !eligible ? "unknown_account" : "wrong_password";
      await this.#audit(
        { action: "auth.login", outcome: "failure", details: { reason } },
        eligible ? user : null,
        origin,
      );
      throw fail("INVALID_CREDENTIALS");
    }
    await this.gates.passwordAccepted(email, address);
    if (user.status !== "ACTIVE" || !tenantAllowsSignIn(user.tenant)) {
      await this.#audit({ action: "auth.login", outcome: "failure", details: { reason: "disabled" } }, user, origin);
      throw fail("FORBIDDEN", "this account is disabled");
    }

    const enrolment = await this.twoFactor.enrolment(user.id);
    if (!enrolment?.confirmedAt) {
      const { token } = await this.tokens.sign(
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
