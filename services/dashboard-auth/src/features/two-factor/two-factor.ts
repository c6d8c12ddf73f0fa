import { randomInt } from "node:crypto";
import type { Db, TotpEnrolmentModel as TotpEnrolment } from "@ipaas/db";
import { type MasterKey, newId } from "@ipaas/service-kit";
import { generateSecret, generateURI, verify } from "otplib";
import QRCode from "qrcode";
import { fail } from "../../errors";
import { expireClaims } from "../sessions/claims";

/** NIST SP 800-63B-4 §3.2.2: at most 100 consecutive failures, then the authenticator is disabled. */
export const MAX_CONSECUTIVE_FAILURES = 100;
const RECOVERY_CODE_COUNT = 10;
const RECOVERY_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
const TOTP_PERIOD = 30;

export type SecondFactor = "totp" | "recovery_code";

export interface CheckResult {
  method: SecondFactor;
}

export class SecondFactorRefused extends Error {
  constructor(
    readonly code: "INVALID_TWO_FACTOR_CODE" | "TWO_FACTOR_LOCKED",
    /** True when this failure is the one that disabled the authenticator. */
    readonly justLocked = false,
  ) {
    super(code);
  }
}

function newRecoveryCode(): string {
  const chars = Array.from({ length: 10 }, () => RECOVERY_ALPHABET[randomInt(RECOVERY_ALPHABET.length)]);
  return `${chars.slice(0, 5).join("")}-${chars.slice(5).join("")}`;
}

/** Recovery codes are compared without case, spaces or dashes: they are read off paper. */
function normalizeRecoveryCode(code: string): string {
  return code.toUpperCase().replace(/[\s-]/g, "");
}

/**
 * TOTP (RFC 6238, SHA-1, 6 digits, 30 s, ±1 step) with the secret encrypted at rest, each code accepted
 * once (the accepted time step is stored and only a later one passes), and ten single-use recovery codes
 * stored as hashes.
 */
export class TwoFactor {
  constructor(
    private readonly db: Db,
    private readonly masterKey: MasterKey,
    private readonly issuer = "IPaaS",
    private readonly clock: () => number = Date.now,
  ) {}

  /** Starts (or restarts) set-up with a fresh secret; refused once 2FA is enabled. */
  async beginSetup(user: {
    id: string;
    email: string;
  }): Promise<{ secret: string; otpauthUrl: string; qrCode: string }> {
    const existing = await this.db.totpEnrolment.findUnique({ where: { userId: user.id } });
    if (existing?.confirmedAt) throw fail("TWO_FACTOR_ALREADY_ENABLED");
    const secret = generateSecret({ length: 20 });
    const secretEncrypted = this.masterKey.encrypt(secret, `totp:${user.id}`);
    await this.db.totpEnrolment.upsert({
      where: { userId: user.id },
      create: { id: newId("totp"), userId: user.id, secretEncrypted },
      update: { secretEncrypted, lastUsedStep: null, failedAttempts: 0, disabledAt: null },
    });
    const otpauthUrl = generateURI({ issuer: this.issuer, label: user.email, secret, period: TOTP_PERIOD, digits: 6 });
    const qrCode = await QRCode.toDataURL(otpauthUrl, { errorCorrectionLevel: "M", margin: 2, width: 256 });
    return { secret, otpauthUrl, qrCode };
  }

  /** Confirms set-up with a first code; enables 2FA and returns the recovery codes, shown this once. */
  async confirm(userId: string, code: string): Promise<string[]> {
    const enrolment = await this.db.totpEnrolment.findUnique({ where: { userId } });
    if (!enrolment) throw fail("TWO_FACTOR_NOT_STARTED");
    if (enrolment.confirmedAt) throw fail("TWO_FACTOR_ALREADY_ENABLED");
    if (!(await this.#acceptTotp(enrolment, code))) {
      await this.#recordFailure(userId);
      throw fail("INVALID_TWO_FACTOR_CODE");
    }
    const codes = Array.from({ length: RECOVERY_CODE_COUNT }, newRecoveryCode);
    await this.db.$transaction(async (tx) => {
      await tx.totpEnrolment.update({ where: { userId }, data: { confirmedAt: new Date(), failedAttempts: 0 } });
      await tx.recoveryCode.deleteMany({ where: { userId } });
      await tx.recoveryCode.createMany({
        data: codes.map((c) => ({ id: newId("rcv"), userId, codeHash: this.#recoveryCodeHash(userId, c) })),
      });
    });
    return codes;
  }

  /**
   * Recovery codes carry 50 bits: a plain digest of one is found by brute force in hours by whoever reads
   * the table. Keyed by the master key and bound to the user, the stored value is useless on its own.
   */
  #recoveryCodeHash(userId: string, code: string): string {
    return this.masterKey.lookupHash(`${userId}:${normalizeRecoveryCode(code)}`, "recovery-code");
  }

  /** The user's enrolment; 2FA is enabled when it is confirmed. */
  enrolment(userId: string) {
    return this.db.totpEnrolment.findUnique({ where: { userId } });
  }

  /**
   * Checks a login's second factor: a 6-digit TOTP code or an unused recovery code. Every wrong code counts;
   * at MAX_CONSECUTIVE_FAILURES the authenticator is disabled until an administrator resets it.
   */
  async check(enrolment: TotpEnrolment, code: string): Promise<CheckResult> {
    const { userId } = enrolment;
    if (!enrolment.confirmedAt) throw new SecondFactorRefused("INVALID_TWO_FACTOR_CODE");
    if (enrolment.disabledAt) throw new SecondFactorRefused("TWO_FACTOR_LOCKED");
    const trimmed = code.trim();
    if (/^\d{6}$/.test(trimmed)) {
      if (await this.#acceptTotp(enrolment, trimmed)) {
        await this.#clearFailures(enrolment);
        return { method: "totp" };
      }
    } else {
      const used = await this.db.recoveryCode.updateMany({
        where: { userId, codeHash: this.#recoveryCodeHash(userId, trimmed), usedAt: null },
        data: { usedAt: new Date() },
      });
      if (used.count === 1) {
        await this.#clearFailures(enrolment);
        return { method: "recovery_code" };
      }
    }
    const locked = await this.#recordFailure(userId);
    throw new SecondFactorRefused(locked ? "TWO_FACTOR_LOCKED" : "INVALID_TWO_FACTOR_CODE", locked);
  }

  /** An administrator's reset: the user sets 2FA up again at the next login. */
  async reset(userId: string): Promise<void> {
    await this.db.$transaction([
      this.db.totpEnrolment.deleteMany({ where: { userId } }),
      this.db.recoveryCode.deleteMany({ where: { userId } }),
    ]);
  }

  /** Verifies the code within ±1 step and claims its time step atomically: a replay, even in parallel, fails. */
  async #acceptTotp(enrolment: { userId: string; secretEncrypted: string }, code: string): Promise<boolean> {
    const secret = this.masterKey.decrypt(enrolment.secretEncrypted, `totp:${enrolment.userId}`);
    const result = await verify({
      secret,
      token: code,
      period: TOTP_PERIOD,
      epoch: Math.floor(this.clock() / 1000),
      epochTolerance: TOTP_PERIOD,
    });
    if (!result.valid || !("timeStep" in result)) return false;
    const step = BigInt(result.timeStep);
    const claimed = await this.db.totpEnrolment.updateMany({
      where: { userId: enrolment.userId, OR: [{ lastUsedStep: null }, { lastUsedStep: { lt: step } }] },
      data: { lastUsedStep: step },
    });
    return claimed.count === 1;
  }

  async #clearFailures(enrolment: TotpEnrolment): Promise<void> {
    if (enrolment.failedAttempts === 0) return;
    await this.db.totpEnrolment.update({ where: { userId: enrolment.userId }, data: { failedAttempts: 0 } });
  }

  /** Counts a wrong code; returns true when this one disabled the authenticator. */
  async #recordFailure(userId: string): Promise<boolean> {
    const updated = await this.db.totpEnrolment.update({
      where: { userId },
      data: { failedAttempts: { increment: 1 } },
    });
    if (updated.failedAttempts >= MAX_CONSECUTIVE_FAILURES && updated.disabledAt === null) {
      const disabled = await this.db.totpEnrolment.updateMany({
        where: { userId, disabledAt: null },
        data: { disabledAt: new Date() },
      });
      // isTwoFactorEnabled is a claim: tokens that still say true are stale now.
      if (disabled.count === 1) await expireClaims(this.db, { id: userId });
      return disabled.count === 1;
    }
    return false;
  }
}
