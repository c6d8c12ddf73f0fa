import type { Db } from "@ipaas/db";
import { writeAudit } from "@ipaas/domain";
import { randomToken } from "@ipaas/service-kit";
import type { FastifyBaseLogger } from "fastify";
import { fail } from "../../errors";
import type { Mailer } from "../../plugins/mailer";
import type { Origin, Sessions } from "../sessions/sessions";
import type { AttemptGates } from "../sign-in/attempt-gates";
import type { Passwords } from "./passwords";
import { claimResetToken, findResetToken, findUserByEmail, insertResetToken, setPasswordHash } from "./repository";

const RESET_TOKEN_TTL_MS = 30 * 60_000;

/** Creates a single-use reset token and returns it; only its hash is stored. */
export async function createResetToken(db: Db, userId: string, ttlMs = RESET_TOKEN_TTL_MS): Promise<string> {
  const token = randomToken(32);
  await insertResetToken(db, userId, token, new Date(Date.now() + ttlMs));
  return token;
}

/**
 * The dashboard UI's page for the token, with the token in the fragment: a browser never sends a fragment
 * to a server, so the token stays out of the UI's access logs, proxies and `Referer` headers (the UI reads
 * it from `location.hash` and posts it to `POST /v1/auth/reset-password`).
 */
export function resetLink(uiUrl: string, token: string): string {
  return `${uiUrl.replace(/\/$/, "")}/reset-password#token=${encodeURIComponent(token)}`;
}

/**
 * Forgotten passwords. The request always gets the same answer; the look-up, the token and the e-mail
 * happen after the answer, so its timing says nothing about whether the account exists. Resetting
 * keeps two-factor as it is and ends every session of the user.
 */
export class PasswordReset {
  constructor(
    private readonly db: Db,
    private readonly passwords: Passwords,
    private readonly sessions: Sessions,
    private readonly mailer: Mailer,
    private readonly gates: AttemptGates,
    private readonly uiUrl: string,
    private readonly log: FastifyBaseLogger,
  ) {}

  /** Starts the work in the background and returns at once. */
  request(email: string, origin: Origin): void {
    this.#send(email.trim().toLowerCase(), origin).catch((error: unknown) => {
      this.log.error({ err: error }, "could not send a password reset e-mail");
    });
  }

  async #send(email: string, origin: Origin): Promise<void> {
    const user = await findUserByEmail(this.db, email);
    if (!user || user.deletedAt !== null || user.status !== "ACTIVE") {
      await writeAudit(
        this.db,
        {
          action: "auth.password_reset_requested",
          outcome: "failure",
          actorType: "anonymous",
          details: { reason: "unknown_account" },
        },
        origin,
      );
      return;
    }
    if (!(await this.gates.admitMail("reset", email))) {
      await writeAudit(
        this.db,
        {
          action: "auth.password_reset_requested",
          outcome: "failure",
          actorType: "anonymous",
          tenantId: user.tenantId,
          targetType: "user",
          targetId: user.id,
          details: { reason: "throttled" },
        },
        origin,
      );
      return;
    }
    const token = await createResetToken(this.db, user.id);
    await this.mailer.send({
      to: user.email,
      subject: "Reset your IPaaS password",
      text: [
        `Hello ${user.name},`,
        "",
        "Someone asked to reset the password of your IPaaS dashboard account. If it was you, open this link",
        "within 30 minutes; it works once:",
        "",
        resetLink(this.uiUrl, token),
        "",
        "If it was not you, ignore this e-mail: your password has not changed.",
      ].join("\n"),
    });
    await writeAudit(
      this.db,
      {
        action: "auth.password_reset_requested",
        outcome: "success",
        actorType: "user",
        actorId: user.id,
        tenantId: user.tenantId,
      },
      origin,
    );
  }

  async reset(token: string, password: string, origin: Origin): Promise<void> {
    const row = await findResetToken(this.db, token);
    const now = new Date();
    if (!row || row.usedAt !== null || row.expiresAt <= now || row.user.deletedAt !== null) {
      await writeAudit(
        this.db,
        {
          action: "auth.password_reset",
          outcome: "failure",
          actorType: "anonymous",
          details: { reason: "invalid_token" },
        },
        origin,
      );
      throw fail("INVALID_RESET_TOKEN");
    }
    const { user } = row;
    await this.passwords.accept(password, user);
    const passwordHash = await this.passwords.hash(password);
    await this.db.$transaction(async (tx) => {
      if (!(await claimResetToken(tx, row, now))) throw fail("INVALID_RESET_TOKEN");
      await setPasswordHash(tx, user.id, passwordHash, now);
      await this.sessions.endAllFor(user.id, "password_reset", { db: tx });
      await writeAudit(
        tx,
        {
          action: "auth.password_reset",
          outcome: "success",
          actorType: "user",
          actorId: user.id,
          tenantId: user.tenantId,
        },
        origin,
      );
    });
  }
}
