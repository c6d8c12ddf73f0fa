import type { Db, DbOrTx } from "@ipaas/db";
import type { MasterKey } from "@ipaas/service-kit";
import { fail } from "../../errors";
import { type GatePolicy, passGate, resetGates } from "./attempt-gates.repository";

/**
 * Per (account, address): five tries, then a delay that doubles from a minute to 15 minutes. It
 * holds back whoever guesses from one place without touching the account's owner elsewhere.
 */
export const PASSWORD_PER_ADDRESS: GatePolicy = {
  freeAttempts: 5,
  firstDelayMs: 60_000,
  maxDelayMs: 15 * 60_000,
  forgetAfterMs: 24 * 3_600_000,
};

/**
 * Per account, from addresses it has not signed in from lately: a distributed guesser is slowed to one
 * try a minute at worst, and the owner is never locked out (at most a minute's wait from a new place, none
 * from a familiar one). 100 failures in a row across addresses is the NIST SP 800-63B ceiling; we slow well
 * before it.
 */
export const PASSWORD_PER_ACCOUNT: GatePolicy = {
  freeAttempts: 20,
  firstDelayMs: 1_000,
  maxDelayMs: 60_000,
  forgetAfterMs: 24 * 3_600_000,
};

/**
 * Unasked-for mails to one account (password resets, "someone tried to register with your address"):
 * three at once, then one every 20 minutes at most, per kind.
 */
export const MAILS_PER_ACCOUNT: GatePolicy = {
  freeAttempts: 3,
  firstDelayMs: 20 * 60_000,
  maxDelayMs: 20 * 60_000,
  forgetAfterMs: 3_600_000,
};

class GateClosed extends Error {
  constructor(readonly retryAfterMs: number) {
    super("gate closed");
  }
}

/**
 * The attempt gates of dashboard sign-in. Keys are keyed hashes of the normalized email (and address),
 * so the table holds no personal data and an unknown email is gated exactly like a known one: the gates
 * say nothing about which accounts exist.
 */
export class AttemptGates {
  constructor(
    private readonly db: Db,
    private readonly masterKey: MasterKey,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * Counts a password attempt before the password is checked, or refuses it with 429 and Retry-After.
   * Both gates are passed in one transaction: an attempt the account gate refuses is not counted against
   * the address either.
   */
  async admitPassword(email: string, address: string, familiarAddress: boolean): Promise<void> {
    const now = new Date(this.now());
    const [pair, account] = this.#passwordKeys(email, address);
    try {
      await this.db.$transaction(async (tx) => {
        const byAddress = await passGate(tx, pair, PASSWORD_PER_ADDRESS, now);
        if (!byAddress.passed) throw new GateClosed(byAddress.retryAfterMs);
        if (familiarAddress) return;
        const byAccount = await passGate(tx, account, PASSWORD_PER_ACCOUNT, now);
        if (!byAccount.passed) throw new GateClosed(byAccount.retryAfterMs);
      });
    } catch (error) {
      if (!(error instanceof GateClosed)) throw error;
      const seconds = String(Math.max(1, Math.ceil(error.retryAfterMs / 1000)));
      throw fail("RATE_LIMITED", `too many attempts; try again in ${seconds} s`, {
        headers: { "retry-after": seconds },
      });
    }
  }

  /** The right password: both gates forget their counts (in `db`, the login's transaction when it has one). */
  async passwordAccepted(email: string, address: string, db: DbOrTx = this.db): Promise<void> {
    await resetGates(db, this.#passwordKeys(email, address));
  }

  /**
   * Whether another mail of this kind may go to this address now; counts it when it may. Anyone can ask
   * for these mails, so without a bound they would flood an inbox and hide the one that matters.
   */
  async admitMail(kind: "reset" | "registration-notice", email: string): Promise<boolean> {
    const key = `${kind}:${this.masterKey.lookupHash(email, "attempt-gate")}`;
    return (await passGate(this.db, key, MAILS_PER_ACCOUNT, new Date(this.now()))).passed;
  }

  #passwordKeys(email: string, address: string): [string, string] {
    return [
      `pw:${this.masterKey.lookupHash(`${email}\n${address}`, "attempt-gate")}`,
      `pw:${this.masterKey.lookupHash(email, "attempt-gate")}`,
    ];
  }
}
