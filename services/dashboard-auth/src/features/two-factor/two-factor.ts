import { randomInt } from "node:crypto";
import type { Db, DbOrTx, TotpEnrolmentModel as TotpEnrolment } from "@ipaas/db";
import type { MasterKey } from "@ipaas/service-kit";
import { generateSecret, generateURI, verify } from "otplib";
import QRCode from "qrcode";
import { fail } from "../../errors";
import { expireClaims } from "../sessions/claims";
import type { AccessChanges } from "../sessions/session-view";
import {
  claimTimeStep,
  clearFailures,
  confirmEnrolment,
  countFailure,
  deleteEnrolment,
  disableEnrolment,
  findEnrolment,
  startEnrolment,
  useRecoveryCode,
} from "./repository";

/** NIST SP 800-63B-4 §3.2.2: at most 100 consecutive failures, then the authenticator is disabled. */
export const MAX_CONSECUTIVE_FAILURES = 100;
const RECOVERY_CODE_COUNT = 10;
const RECOVERY_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
const TOTP_PERIOD = 30;

/** A code found right for an authenticator, not yet used. */
export type SecondFactorProof = { method: "totp"; step: bigint } | { method: "recovery_code"; codeHash: string };

/** What checking a second factor needs of an enrolment. */
export type Authenticator = Pick<
  TotpEnrolment,
  "userId" | "secretEncrypted" | "confirmedAt" | "disabledAt" | "failedAttempts"
>;

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
    private readonly view: AccessChanges,
    private readonly issuer = "IPaaS",
    private readonly clock: () => number = Date.now,
  ) {}

  /** Starts (or restarts) set-up with a fresh secret; refused once 2FA is enabled. */
  async beginSetup(user: {
    id: string;
    email: string;
  }): Promise<{ secret: string; otpauthUrl: string; qrCode: string }> {
    const existing = await findEnrolment(this.db, user.id);
    if (existing?.confirmedAt) throw fail("TWO_FACTOR_ALREADY_ENABLED");
    const secret = generateSecret({ length: 20 });
    const secretEncrypted = this.masterKey.encrypt(secret, `totp:${user.id}`);
    await startEnrolment(this.db, user.id, secretEncrypted);
    const otpauthUrl = generateURI({ issuer: this.issuer, label: user.email, secret, period: TOTP_PERIOD, digits: 6 });
    const qrCode = await QRCode.toDataURL(otpauthUrl, { errorCorrectionLevel: "M", margin: 2, width: 256 });
    return { secret, otpauthUrl, qrCode };
  }

  /** Confirms set-up with a first code; enables 2FA and returns the recovery codes, shown this once. */
  async confirm(userId: string, code: string): Promise<string[]> {
    const enrolment = await findEnrolment(this.db, userId);
    if (!enrolment) throw fail("TWO_FACTOR_NOT_STARTED");
    if (enrolment.confirmedAt) throw fail("TWO_FACTOR_ALREADY_ENABLED");
    const step = await this.#totpStep(enrolment, code);
    // Claiming the step makes the code single-use: a replay, even in parallel, fails.
    if (step === null || !(await claimTimeStep(this.db, userId, step))) {
      await this.#recordFailure(userId);
      throw fail("INVALID_TWO_FACTOR_CODE");
    }
    const codes = Array.from({ length: RECOVERY_CODE_COUNT }, newRecoveryCode);
    await this.db.$transaction((tx) =>
      confirmEnrolment(
        tx,
        userId,
        codes.map((c) => this.#recoveryCodeHash(userId, c)),
      ),
    );
    return codes;
  }

  /**
   * Recovery codes carry 50 bits: a plain digest of one is found by brute force in hours by whoever reads
   * the table. Keyed by the master key and bound to the user, the stored value is useless on its own.
   */
  #recoveryCodeHash(userId: string, code: string): string {
    return this.masterKey.lookupHash(`${userId}:${normalizeRecoveryCode(code)}`, "recovery-code");
  }

  /**
   * Checks a login's second factor without using it: a 6-digit TOTP code right for this moment (its time
   * step is the proof), or something shaped otherwise, taken for a recovery code (its keyed hash is). Null
   * for a wrong TOTP code. `redeem` then uses the proof, in the transaction that starts the session.
   */
  async prove(enrolment: Authenticator, code: string): Promise<SecondFactorProof | null> {
    if (!enrolment.confirmedAt) throw new SecondFactorRefused("INVALID_TWO_FACTOR_CODE");
    if (enrolment.disabledAt) throw new SecondFactorRefused("TWO_FACTOR_LOCKED");
    const trimmed = code.trim();
    if (!/^\d{6}$/.test(trimmed)) {
      return { method: "recovery_code", codeHash: this.#recoveryCodeHash(enrolment.userId, trimmed) };
    }
    const step = await this.#totpStep(enrolment, trimmed);
    return step === null ? null : { method: "totp", step };
  }

  /**
   * Uses a proof: claims the TOTP time step (only a later one than the last passes, so a replay fails even
   * in parallel) or marks the recovery code used, and forgets earlier failures. False when it was used.
   */
  async redeem(db: DbOrTx, enrolment: Authenticator, proof: SecondFactorProof): Promise<boolean> {
    const { userId } = enrolment;
    const used =
      proof.method === "totp"
        ? await claimTimeStep(db, userId, proof.step)
        : await useRecoveryCode(db, userId, proof.codeHash);
    if (used && enrolment.failedAttempts > 0) await clearFailures(db, userId);
    return used;
  }

  /**
   * Counts a wrong code and returns the refusal to answer with; at MAX_CONSECUTIVE_FAILURES the
   * authenticator is disabled until an administrator resets it.
   */
  async refusal(userId: string): Promise<SecondFactorRefused> {
    const locked = await this.#recordFailure(userId);
    return new SecondFactorRefused(locked ? "TWO_FACTOR_LOCKED" : "INVALID_TWO_FACTOR_CODE", locked);
  }

  /** An administrator's reset: the user sets 2FA up again at the next login. */
  async reset(userId: string): Promise<void> {
    await this.db.$transaction((tx) => deleteEnrolment(tx, userId));
  }

  /** The time step the code is right for, within ±1 step of now; null when it is wrong. */
  async #totpStep(enrolment: { userId: string; secretEncrypted: string }, code: string): Promise<bigint | null> {
    const secret = this.masterKey.decrypt(enrolment.secretEncrypted, `totp:${enrolment.userId}`);
    const result = await verify({
      secret,
      token: code,
      period: TOTP_PERIOD,
      epoch: Math.floor(this.clock() / 1000),
      epochTolerance: TOTP_PERIOD,
    });
    return result.valid && "timeStep" in result ? BigInt(result.timeStep) : null;
  }

  /** Counts a wrong code; returns true when this one disabled the authenticator. */
  async #recordFailure(userId: string): Promise<boolean> {
    const updated = await countFailure(this.db, userId);
    if (updated.failedAttempts >= MAX_CONSECUTIVE_FAILURES && updated.disabledAt === null) {
      const disabled = await disableEnrolment(this.db, userId);
      // isTwoFactorEnabled is a claim: tokens that still say true are stale now.
      if (disabled) await expireClaims(this.db, { id: userId }, this.view);
      return disabled;
    }
    return false;
  }
}
