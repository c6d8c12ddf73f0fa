import type { Db } from "@ipaas/db";
import { writeAudit } from "@ipaas/domain";
import { fail } from "../../errors";
import { findUserOrNull } from "../passwords/repository";
import { isActiveUser, type Origin } from "../sessions/sessions";
import type { TwoFactor } from "./two-factor";

/**
 * TOTP set-up for the holder of the short-lived set-up token that login hands out before two-factor is
 * enabled (the routes verify it: no other token is accepted there, and this token nowhere else). Every
 * step is audited.
 */
export class TwoFactorEnrolment {
  constructor(
    private readonly db: Db,
    private readonly twoFactor: TwoFactor,
  ) {}

  /** `userId` is the subject of a verified set-up token. */
  async begin(userId: string, origin: Origin) {
    const user = await this.#setupUser(userId);
    const setup = await this.twoFactor.beginSetup(user);
    await this.#audit("auth.2fa_setup_started", "success", user, origin);
    return setup;
  }

  /** Confirms set-up with a first code; returns the recovery codes, shown this once. */
  async enable(userId: string, code: string, origin: Origin): Promise<string[]> {
    const user = await this.#setupUser(userId);
    try {
      const recoveryCodes = await this.twoFactor.confirm(user.id, code.trim());
      await this.#audit("auth.2fa_enabled", "success", user, origin);
      return recoveryCodes;
    } catch (error) {
      await this.#audit("auth.2fa_enabled", "failure", user, origin);
      throw error;
    }
  }

  async #setupUser(userId: string) {
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
