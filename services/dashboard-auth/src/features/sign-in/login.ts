import type { Db, DbOrTx, TenantKind } from "@ipaas/db";
import { type AuditEntry, writeAudit } from "@ipaas/domain";
import type { TokenService } from "@ipaas/service-kit";
import type { FastifyBaseLogger } from "fastify";
import { fail } from "../../errors";
import type { Passwords } from "../passwords/passwords";
import { replacePasswordHash } from "../passwords/repository";
import { claimsOf } from "../sessions/claims";
import {
  durationLabel,
  type IssuedSession,
  type Origin,
  type Sessions,
  tenantAllowsSignIn,
} from "../sessions/sessions";
import { type SecondFactorProof, SecondFactorRefused, type TwoFactor } from "../two-factor/two-factor";
import type { AttemptGates } from "./attempt-gates";
import { findSignInAccount, type SignInAccount } from "./login.repository";

/** The short-lived token that only the two 2FA set-up routes accept. */
export const SETUP_TOKEN = { typ: "2fa-setup+jwt", audience: "ipaas-dashboard-2fa-setup", ttlSeconds: 600 } as const;

/** An address the user completed a sign-in from this recently is familiar: the account-wide gate spares it. */
const FAMILIAR_MS = 30 * 86_400_000;

/** The user changed (disabled, new password, new claims) between reading them and starting the session. */
class AccountChanged extends Error {}

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
    private readonly log: FastifyBaseLogger,
  ) {}

  async login(input: LoginInput, allowedKinds: readonly TenantKind[], origin: Origin): Promise<LoginOutcome> {
    const email = input.email.trim().toLowerCase();
    const address = origin.ip ?? "unknown";
    const user = await this.#checkPassword(email, input.password, address, allowedKinds, origin);
    const enrolment = user.totp;
    const active =
      user.status === "ACTIVE" && tenantAllowsSignIn({ status: user.tenantStatus, deletedAt: user.tenantDeletedAt });
    if (!active || !enrolment?.confirmedAt || !input.code) {
      await this.gates.passwordAccepted(email, address);
      if (!active) {
        await this.#audit({ action: "auth.login", outcome: "failure", details: { reason: "disabled" } }, user, origin);
        throw fail("FORBIDDEN", "this account is disabled");
      }
      if (!enrolment?.confirmedAt) return this.#setUpSecondFactor(user, origin);
      await this.#audit(
        { action: "auth.login", outcome: "failure", details: { reason: "2fa_required" } },
        user,
        origin,
      );
      throw fail("TWO_FACTOR_REQUIRED");
    }

    let proof: SecondFactorProof | null;
    try {
      proof = await this.twoFactor.prove(enrolment, input.code);
    } catch (error) {
      await this.gates.passwordAccepted(email, address);
      throw await this.#secondFactorRefused(error, user, origin);
    }
    // The rest of a login that succeeds is one transaction: the gates forget, the code is used, the session
    // starts and the audit records it, all or nothing.
    const opened = await this.db
      .$transaction(async (tx) => {
        await this.gates.passwordAccepted(email, address, tx);
        if (!proof || !(await this.twoFactor.redeem(tx, enrolment, proof))) return null;
        const session = await this.sessions.open(tx, user, origin, proof.method);
        if (!session) throw new AccountChanged();
        const details = { mfa: proof.method, sessionId: session.sessionId };
        await this.#audit({ action: "auth.login", outcome: "success", details }, user, origin, tx);
        return session;
      })
      .catch(async (error: unknown) => {
        if (!(error instanceof AccountChanged)) throw error;
        await this.#audit(
          { action: "auth.login", outcome: "failure", details: { reason: "account_changed" } },
          user,
          origin,
        );
        throw fail("CONFLICT", "the account changed while signing in; sign in again");
      });
    if (!opened) {
      throw await this.#secondFactorRefused(await this.twoFactor.refusal(user.id), user, origin);
    }
    const claims = claimsOf({ ...user, twoFactorEnabled: true });
    const session = await this.sessions.issue(
      { claims, notBefore: user.tokensNotBefore },
      opened.sessionId,
      opened.refreshToken,
    );
    return { kind: "session", session };
  }

  /**
   * The account whose password this is, or INVALID_CREDENTIALS. A place in the password hashing is taken
   * first, so a login the hashing would shed is shed before it reads or counts anything.
   */
  async #checkPassword(
    email: string,
    password: string,
    address: string,
    allowedKinds: readonly TenantKind[],
    origin: Origin,
  ): Promise<SignInAccount> {
    const check = this.passwords.enter(address);
    try {
      // Everything the login needs of the account, read once; asked for unknown accounts too, at the same cost.
      const account = await findSignInAccount(this.db, email, address, new Date(Date.now() - FAMILIAR_MS));
      const user = account && account.deletedAt === null && allowedKinds.includes(account.tenantKind) ? account : null;
      try {
        await this.gates.admitPassword(email, address, user?.familiar ?? false);
      } catch (error) {
        await this.#audit({ action: "auth.login", outcome: "failure", details: { reason: "throttled" } }, user, origin);
        throw error;
      }
      const passwordOk = await check.verify(user?.passwordHash ?? null, password);
      if (!user || !passwordOk) {
        const reason = !user ? "unknown_account" : "wrong_password";
        await this.#audit({ action: "auth.login", outcome: "failure", details: { reason } }, user, origin);
        throw fail("INVALID_CREDENTIALS");
      }
      return await this.#upgradeHash(user, password, address);
    } finally {
      check.leave();
    }
  }

  /**
   * A right password whose stored hash is of an older form (made before the pepper, or with other argon2
   * parameters) is hashed again now and the new hash replaces the old one, unless the password changed
   * meanwhile. The account comes back with the hash it now has, which the session is opened against. The
   * old hash still verifies, so a failure here is no reason to refuse the login: the next one tries again.
   */
  async #upgradeHash(user: SignInAccount, password: string, address: string): Promise<SignInAccount> {
    if (!this.passwords.needsRehash(user.passwordHash)) return user;
    try {
      const passwordHash = await this.passwords.hash(password, address);
      if (await replacePasswordHash(this.db, user.id, user.passwordHash, passwordHash))
        return { ...user, passwordHash };
    } catch (error) {
      // Its name and code only: the message of a failed statement may quote its arguments, the hashes.
      const { name, code } = (error ?? {}) as { name?: unknown; code?: unknown };
      this.log.warn({ userId: user.id, error: name, code }, "could not upgrade a password hash; the old one stays");
    }
    return user;
  }

  /** Right password, no second factor yet: a token that only the set-up routes take. */
  async #setUpSecondFactor(user: SignInAccount, origin: Origin): Promise<LoginOutcome> {
    const { token } = await this.tokens.sign(
      { tid: user.tenantId },
      { typ: SETUP_TOKEN.typ, audience: SETUP_TOKEN.audience, subject: user.id, ttlSeconds: SETUP_TOKEN.ttlSeconds },
    );
    await this.#audit(
      { action: "auth.login", outcome: "success", details: { stage: "2fa_setup_required" } },
      user,
      origin,
    );
    return { kind: "setup", setupToken: token, expiredIn: durationLabel(SETUP_TOKEN.ttlSeconds) };
  }

  /** Audits a refused second factor (and the lock it set off) and returns the error to answer with. */
  async #secondFactorRefused(error: unknown, user: SignInAccount, origin: Origin): Promise<unknown> {
    if (!(error instanceof SecondFactorRefused)) return error;
    await this.#audit({ action: "auth.2fa", outcome: "failure", details: { reason: error.code } }, user, origin);
    if (error.justLocked) {
      await this.#audit(
        { action: "auth.2fa_disabled", outcome: "success", details: { reason: "too_many_failures" } },
        user,
        origin,
      );
    }
    return fail(error.code);
  }

  async #audit(
    entry: Omit<AuditEntry, "actorType" | "actorId" | "tenantId">,
    user: { id: string; tenantId: string } | null,
    origin: Origin,
    db: DbOrTx = this.db,
  ): Promise<void> {
    await writeAudit(
      db,
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
