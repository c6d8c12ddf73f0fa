import { ProblemError } from "@ipaas/service-kit";
import argon2 from "argon2";
import { fail } from "../errors";
import { PasswordPolicy, type PasswordVerdict } from "./password-policy";

/** OWASP's argon2id parameters: 19 MiB, 2 passes, 1 lane. */
const ARGON2_OPTIONS = { type: argon2.argon2id, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

export interface Passwords {
  hash(password: string): Promise<string>;
  /** Verifies a password against a stored hash; with no hash it spends the same time and fails. */
  verify(hash: string | null, password: string): Promise<boolean>;
  check(password: string, context?: string[]): PasswordVerdict;
}

/**
 * Bounds the argon2 work in progress. argon2 runs in libuv's thread pool (4 threads by default); beyond
 * `running` at once the rest wait, and beyond `waiting` the request is shed with 503 and Retry-After
 * rather than queued for seconds, so a login storm cannot starve the rest of the service.
 */
export class HashingSlots {
  #busy = 0;
  readonly #queue: Array<() => void> = [];

  constructor(
    private readonly running = 4,
    private readonly waiting = 32,
  ) {}

  async run<T>(work: () => Promise<T>): Promise<T> {
    if (this.#busy >= this.running) {
      if (this.#queue.length >= this.waiting) {
        throw fail("UNAVAILABLE", "too many logins are being checked right now; retry in a second", {
          headers: { "retry-after": "1" },
        });
      }
      await new Promise<void>((resolve) => this.#queue.push(resolve));
    }
    this.#busy += 1;
    try {
      return await work();
    } finally {
      this.#busy -= 1;
      this.#queue.shift()?.();
    }
  }
}

export async function createPasswords(slots = new HashingSlots()): Promise<Passwords> {
  const policy = new PasswordPolicy();
  // Verified when the account does not exist, so both answers take as long.
  const decoy = await argon2.hash("decoy password that matches nothing", ARGON2_OPTIONS);
  return {
    hash: (password) => slots.run(() => argon2.hash(password, ARGON2_OPTIONS)),
    async verify(hash, password) {
      try {
        const ok = await slots.run(() => argon2.verify(hash ?? decoy, password));
        return hash !== null && ok;
      } catch (error) {
        if (error instanceof ProblemError) throw error;
        return false;
      }
    },
    check: (password, context) => policy.check(password, context),
  };
}
