import type { Db } from "@ipaas/db";
import { writeAudit } from "@ipaas/domain";
import { fail, invalidField } from "../../errors";
import type { Origin, Principal, Sessions } from "../sessions/sessions";
import type { Passwords } from "./passwords";
import { findUserById, setPasswordHash } from "./repository";

export interface PasswordChangeInput {
  current_password: string;
  password: string;
  confirm_password: string;
}

/**
 * A signed-in user changes their own password. The current one is required, so a stolen session cannot
 * take the account over (ASVS 6.2.3); every other session of the user ends.
 */
export class PasswordChange {
  constructor(
    private readonly db: Db,
    private readonly passwords: Passwords,
    private readonly sessions: Sessions,
  ) {}

  async change(principal: Principal, input: PasswordChangeInput, origin: Origin): Promise<void> {
    const audit = { actorType: "user" as const, actorId: principal.userId, tenantId: principal.tenantId };
    if (input.password !== input.confirm_password) {
      throw invalidField("confirm_password", "does not match password", "PASSWORD_MISMATCH");
    }
    const user = await findUserById(this.db, principal.userId);
    if (!(await this.passwords.verify(user.passwordHash, input.current_password, origin.ip ?? undefined))) {
      await writeAudit(
        this.db,
        {
          ...audit,
          action: "auth.password_changed",
          outcome: "failure",
          details: { reason: "wrong_current_password" },
        },
        origin,
      );
      throw fail("WRONG_PASSWORD");
    }
    await this.passwords.accept(input.password, user);
    const passwordHash = await this.passwords.hash(input.password, origin.ip ?? undefined);
    await this.db.$transaction(async (tx) => {
      await setPasswordHash(tx, user.id, passwordHash, new Date());
      await this.sessions.endAllFor(user.id, "password_changed", { except: principal.sessionId, db: tx });
      await writeAudit(tx, { ...audit, action: "auth.password_changed", outcome: "success" }, origin);
    });
  }
}
