import { randomInt, timingSafeEqual } from "node:crypto";
import type { MasterKey } from "@ipaas/service-kit";

/** A code of `length` digits, each drawn uniformly from a CSPRNG. */
export function randomCode(length: number): string {
  let code = "";
  for (let i = 0; i < length; i++) code += String(randomInt(10));
  return code;
}

/**
 * The stored form of a code: HMAC under the master key, bound to its challenge, so a database copy neither
 * reveals codes nor lets one be moved to another challenge.
 */
export function codeHash(masterKey: MasterKey, challengeId: string, code: string): string {
  return masterKey.lookupHash(`${challengeId}:${code}`, "otp-code");
}

export function codeMatches(masterKey: MasterKey, challengeId: string, code: string, storedHash: string): boolean {
  const presented = Buffer.from(codeHash(masterKey, challengeId, code), "hex");
  const stored = Buffer.from(storedHash, "hex");
  return presented.length === stored.length && timingSafeEqual(presented, stored);
}

/** The keyed hash a phone number or email is found by, in challenges and in the person's record. */
export function contactHash(masterKey: MasterKey, kind: "phone" | "email", value: string): string {
  return masterKey.lookupHash(value, `end-user-${kind}`);
}
