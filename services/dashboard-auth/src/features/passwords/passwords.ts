import { ProblemError } from "@ipaas/service-kit";
import argon2 from "argon2";
import { fail, invalidField } from "../../errors";
import { PasswordPolicy } from "./policy";

/** OWASP's argon2id parameters: 19 MiB, 2 passes, 1 lane. */
const ARGON2_OPTIONS = { type: argon2.argon2id, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

/** `address`: the client address the work is done for; one address gets a bounded share of the hashing. */
export interface Passwords {
  hash(password: string, address?: string): Promise<string>;
  /** Verifies a password against a stored hash; with no hash it spends the same time and fails. */
  verify(hash: string | null, password: string, address?: string): Promise<boolean>;
  /** Refuses now (503 or 429) a check `verify` would refuse for load, before the caller does other work. */
  admit(address?: string): void;
  /** Refuses (400 WEAK_PASSWORD, with the reason) a password the policy rejects for this person. */
  accept(password: string, person: { email: string; name: string }): void;
}

/**
 * Bounds the argon2 work in progress. argon2 runs in libuv's thread pool (4 threads by default); beyond
 * `running` at once the rest wait, and beyond `waiting` the request is shed with 503 and Retry-After
 * rather than queued for seconds, so a login storm cannot starve the rest of the service. One client
 * address holds at most `perAddress` of the running and waiting places: beyond that it alone is told to
 * slow down (429), so it cannot fill the queue and make everyone else's logins answer 503.
 */
export class HashingSlots {
  #busy = 0;
  readonly #queue: Array<() => void> = [];
  readonly #byAddress = new Map<string, number>();

  constructor(
    private readonly running = 4,
    private readonly waiting = 32,
    private readonly perAddress = 2,
  ) {}

  /**
   * Throws what `run` would answer if asked now, without taking a place: a caller with work to do before
   * the hashing (reading the account, counting the attempt) sheds the request before doing it.
   */
  admit(address?: string): void {
    if (address !== undefined && (this.#byAddress.get(address) ?? 0) >= this.perAddress) {
      throw fail("RATE_LIMITED", "too many password checks from your address at once; retry in a second", {
        headers: { "retry-after": "1" },
      });
    }
    if (this.#busy >= this.running && this.#queue.length >= this.waiting) {
      throw fail("UNAVAILABLE", "too many logins are being checked right now; retry in a second", {
        headers: { "retry-after": "1" },
      });
    }
  }

  async run<T>(work: () => Promise<T>, address?: string): Promise<T> {
    this.admit(address);
    if (address === undefined) return this.#run(work);
    const held = this.#byAddress.get(address) ?? 0;
    this.#byAddress.set(address, held + 1);
    try {
      return await this.#run(work);
    } finally {
      const left = (this.#byAddress.get(address) ?? 1) - 1;
      if (left === 0) this.#byAddress.delete(address);
      else this.#byAddress.set(address, left);
    }
  }

  async #run<T>(work: () => Promise<T>): Promise<T> {
    if (this.#busy >= this.running) await new Promise<void>((resolve) => this.#queue.push(resolve));
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
    hash: (password, address) => slots.run(() => argon2.hash(password, ARGON2_OPTIONS), address),
    async verify(hash, password, address) {
      try {
        const ok = await slots.run(() => argon2.verify(hash ?? decoy, password), address);
        return hash !== null && ok;
      } catch (error) {
        if (error instanceof ProblemError) throw error;
        return false;
      }
    },
    admit: (address) => slots.admit(address),
    accept(password, { email, name }) {
      const verdict = policy.check(password, [email, email.split("@")[0] ?? "", name]);
      if (!verdict.ok) throw invalidField("password", verdict.reason, "WEAK_PASSWORD");
    },
  };
}
