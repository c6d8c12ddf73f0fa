import type { Db } from "@ipaas/db";
import { writeAudit } from "@ipaas/domain";
import { InvalidTokenError, type TokenService } from "@ipaas/service-kit";
import { fail } from "../../errors";
import { findUserOrNull } from "../passwords/repository";
import { isActiveUser, type Origin } from "../sessions/sessions";
import { SETUP_TOKEN } from "../sign-in/login";
import type { TwoFactor } from "./two-factor";

/**
 * TOTP set-up with the short-lived set-up token that login hands out before two-factor is enabled: no
 * other token is accepted here, and this token nowhere else. Every step is audited.
 */
export class TwoFactorEnrolment {
  constructor(
    private readonly db: Db,
    private readonly tokens: TokenService,
    private readonly twoFactor: TwoFactor,
  ) {}

  async begin(setupToken: string | null, origin: Origin) {
    const user = await this.#setupUser(setupToken);
    const setup = await this.twoFactor.beginSetup(user);
    await this.#audit("auth.2fa_setup_started", "success", user, origin);
    return setup;
  }

  /** Confirms set-up with a first code; returns the recovery codes, shown this once. */
  async enable(setupToken: string | null, code: string, origin: Origin): Promise<string[]> {
    const user = await this.#setupUser(setupToken);
    try {
      const recoveryCodes = await this.twoFactor.confirm(user.id, code.trim());
      await this.#audit("auth.2fa_enabled", "success", user, origin);
      return recoveryCodes;
    } catch (error) {
      await this.#audit("auth.2fa_enabled", "failure", user, origin);
      throw error;
    }
  }

  async #setupUser(token: string | null) {
    if (!token) throw fail("INVALID_TOKEN", "send the set-up token as `Authorization: Bearer <token>`");
    let userId: string;
    try {
      const { claims } = await this.tokens.verify(token, { typ: [SETUP_TOKEN.typ], audience: SETUP_TOKEN.audience });
      userId = claims.sub;
    } catch (error) {
      if (error instanceof InvalidTokenError) throw fail("INVALID_TOKEN", error.reason);
      throw error;
    }
    const user = await findUserOrNull(this.db, userId);
    if (!user || !isActiveUser(user)) throw fail("INVALID_TOKEN", "account disabled");
    return user;
  }

  #audit(
    action: string,
    outcome: "success" | "failure",
    user: { id: string; tenantId: string },
    origin: Origin,
  ): Promise<void> {
    return writeAudit(
      this.db,
      { action, outcome, actorType: "user", actorId: user.id, tenantId: user.tenantId },
      origin,
    );
  }
}
