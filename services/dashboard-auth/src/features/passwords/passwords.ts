import argon2 from "argon2";
import { fail, invalidField } from "../../errors";
import { PasswordPolicy } from "./policy";

/** OWASP's argon2id parameters: 19 MiB, 2 passes, 1 lane. */
const ARGON2_OPTIONS = { type: argon2.argon2id, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

/** One password check in a place taken in advance; `leave` gives the place back, checked or not. */
export interface PasswordCheck {
  verify(hash: string | null, password: string): Promise<boolean>;
  leave(): void;
}

/** `address`: the client address the work is done for; one address gets a bounded share of the hashing. */
export interface Passwords {
  hash(password: string, address?: string): Promise<string>;
  /** Verifies a password against a stored hash; with no hash it spends the same time and fails. */
  verify(hash: string | null, password: string, address?: string): Promise<boolean>;
  /**
   * Takes a place in the hashing for a check to come, or refuses at once (503 or 429, as `verify` would):
   * a caller with work to do before the check sheds the request before doing it.
   */
  enter(address?: string): PasswordCheck;
  /** Refuses (400 WEAK_PASSWORD, with the reason) a password the policy rejects for this person. */
  accept(password: string, person: { email: string; name: string }): Promise<void>;
}

/** A place in the password hashing, held from `enter` until `leave` whatever its holder does meanwhile. */
export interface HashingPlace {
  /** Runs the hashing in this place, once one of the `running` places is free. */
  run<T>(work: () => Promise<T>): Promise<T>;
  /** Gives the place back; calling it again does nothing. */
  leave(): void;
}

/**
 * Bounds the argon2 work in progress. argon2 runs in libuv's thread pool (4 threads by default); beyond
 * `running` at once the rest wait, and beyond `waiting` the request is shed with 503 and Retry-After
 * rather than queued for seconds, so a login storm cannot starve the rest of the service. One client
 * address holds at most `perAddress` of the running and waiting places: beyond that it alone is told to
 * slow down (429), so it cannot fill the queue and make everyone else's logins answer 503.
 *
 * A place is taken when a request enters, before the work that leads up to the hashing (reading the
 * account, counting the attempt): a request that would be shed is shed before it costs anything.
 */
export class HashingSlots {
  #held = 0;
  #busy = 0;
  readonly #queue: Array<() => void> = [];
  readonly #byAddress = new Map<string, number>();

  constructor(
    private readonly running = 4,
    private readonly waiting = 32,
    private readonly perAddress = 2,
  ) {}

  /** Takes a place, or refuses: 429 when the address holds its share, 503 when every place is held. */
  enter(address?: string): HashingPlace {
    const byAddress = address === undefined ? 0 : (this.#byAddress.get(address) ?? 0);
    if (byAddress >= this.perAddress) {
      throw fail("RATE_LIMITED", "too many password checks from your address at once; retry in a second", {
        headers: { "retry-after": "1" },
      });
    }
    if (this.#held >= this.running + this.waiting) {
      throw fail("UNAVAILABLE", "too many logins are being checked right now; retry in a second", {
        headers: { "retry-after": "1" },
      });
    }
    this.#held += 1;
    if (address !== undefined) this.#byAddress.set(address, byAddress + 1);
    let held = true;
    return {
      run: (work) => this.#run(work),
      leave: () => {
        if (!held) return;
        held = false;
        this.#held -= 1;
        if (address === undefined) return;
        const left = (this.#byAddress.get(address) ?? 1) - 1;
        if (left === 0) this.#byAddress.delete(address);
        else this.#byAddress.set(address, left);
      },
    };
  }

  async run<T>(work: () => Promise<T>, address?: string): Promise<T> {
    const place = this.enter(address);
    try {
      return await place.run(work);
    } finally {
      place.leave();
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
  const enter = (address?: string): PasswordCheck => {
    const place = slots.enter(address);
    return {
      async verify(hash, password) {
        try {
          const ok = await place.run(() => argon2.verify(hash ?? decoy, password));
          return hash !== null && ok;
        } catch {
          // A stored value argon2 cannot read matches nothing.
          return false;
        } finally {
          place.leave();
        }
      },
      leave: place.leave,
    };
  };
  return {
    hash: (password, address) => slots.run(() => argon2.hash(password, ARGON2_OPTIONS), address),
    enter,
    async verify(hash, password, address) {
      const check = enter(address);
      try {
        return await check.verify(hash, password);
      } finally {
        check.leave();
      }
    },
    async accept(password, { email, name }) {
      const verdict = await policy.check(password, [email, email.split("@")[0] ?? "", name]);
      if (!verdict.ok) throw invalidField("password", verdict.reason, "WEAK_PASSWORD");
    },
  };
}
