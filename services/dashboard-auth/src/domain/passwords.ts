import argon2 from "argon2";
import { PasswordPolicy, type PasswordVerdict } from "./password-policy";

/** OWASP's argon2id parameters: 19 MiB, 2 passes, 1 lane. */
const ARGON2_OPTIONS = { type: argon2.argon2id, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

export interface Passwords {
  hash(password: string): Promise<string>;
  /** Verifies a password against a stored hash; with no hash it spends the same time and fails. */
  verify(hash: string | null, password: string): Promise<boolean>;
  check(password: string, context?: string[]): PasswordVerdict;
}

export async function createPasswords(): Promise<Passwords> {
  const policy = new PasswordPolicy();
  // Verified when the account does not exist, so both answers take as long.
  const decoy = await argon2.hash("decoy password that matches nothing", ARGON2_OPTIONS);
  return {
    hash: (password) => argon2.hash(password, ARGON2_OPTIONS),
    async verify(hash, password) {
      try {
        const ok = await argon2.verify(hash ?? decoy, password);
        return hash !== null && ok;
      } catch {
        return false;
      }
    },
    check: (password, context) => policy.check(password, context),
  };
}
