import type { MasterKey } from "@ipaas/service-kit";
import argon2 from "argon2";
import type { FastifyBaseLogger } from "fastify";
import { fail, invalidField } from "../../errors";
import { BreachCheckFailed, type BreachedPasswords } from "./breached";
import { PasswordPolicy } from "./policy";

/** OWASP's argon2id parameters: 19 MiB, 2 passes, 1 lane. */
const ARGON2_OPTIONS = { type: argon2.argon2id, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

/**
 * Marks a stored hash made with the pepper: `p1` followed by argon2's own string (`p1$argon2id$v=19$…`).
 * A stored value without it is a hash from before the pepper, a plain argon2 string, verified without the
 * secret; the mark says which of the two ways to verify, so a password is never hashed twice to find out.
 * A marked value is no argon2 string, so nothing that reads one as such can verify it without the pepper.
 */
const PEPPERED = "p1";

/**
 * The pepper: a secret key argon2 mixes into every hash (its `secret` input), known to the service and
 * never stored with the hashes, so a copy of the users table alone is not enough to guess passwords. It
 * is derived from the master key ring's index key, the key of the look-up hashes (MASTER_KEY unless
 * INDEX_KEY is set): like them, a password hash cannot be made again without the password, so the key
 * must outlive a rotation of MASTER_KEY.
 */
export function passwordPepper(masterKey: MasterKey): Buffer {
  return Buffer.from(masterKey.lookupHash("argon2 secret", "password-pepper"), "hex");
}

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
  /**
   * Whether a stored hash, once its password is known to be right, should be replaced by `hash(password)`:
   * it was made without the pepper, or with other argon2 parameters than today's.
   */
  needsRehash(hash: string): boolean;
  /**
   * Refuses (400 WEAK_PASSWORD, with the reason) a password the policy rejects for this person, or one the
   * breached-password service lists.
   */
  accept(password: string, person: { email: string; name: string }): Promise<void>;
}

export interface PasswordsOptions {
  /** The argon2 secret (`passwordPepper`). Without it hashes are made as before the pepper: plain argon2. */
  pepper?: Buffer | undefined;
  /** Checked for every new password once the policy accepts it; none, no such check. */
  breached?: BreachedPasswords | undefined;
  /** Where a failed breached-password check is reported. */
  log?: FastifyBaseLogger | undefined;
  slots?: HashingSlots | undefined;
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

export async function createPasswords(options: PasswordsOptions = {}): Promise<Passwords> {
  const { pepper, breached, log, slots = new HashingSlots() } = options;
  const policy = new PasswordPolicy();
  const hash = async (password: string): Promise<string> =>
    pepper
      ? `${PEPPERED}${await argon2.hash(password, { ...ARGON2_OPTIONS, secret: pepper })}`
      : argon2.hash(password, ARGON2_OPTIONS);
  /** One argon2 verification, the way the stored value's form says. */
  const verifyStored = (stored: string, password: string): Promise<boolean> => {
    if (!stored.startsWith(`${PEPPERED}$`)) return argon2.verify(stored, password);
    // A peppered hash and no pepper (a tool without the key): it cannot match.
    if (!pepper) return Promise.resolve(false);
    return argon2.verify(stored.slice(PEPPERED.length), password, { secret: pepper });
  };
  // Verified when the account does not exist, so both answers take as long.
  const decoy = await hash("decoy password that matches nothing");
  const enter = (address?: string): PasswordCheck => {
    const place = slots.enter(address);
    return {
      async verify(stored, password) {
        try {
          const ok = await place.run(() => verifyStored(stored ?? decoy, password));
          return stored !== null && ok;
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
    hash: (password, address) => slots.run(() => hash(password), address),
    enter,
    async verify(stored, password, address) {
      const check = enter(address);
      try {
        return await check.verify(stored, password);
      } finally {
        check.leave();
      }
    },
    needsRehash(stored) {
      const peppered = stored.startsWith(`${PEPPERED}$`);
      if (pepper && !peppered) return true;
      const argon2String = peppered ? stored.slice(PEPPERED.length) : stored;
      try {
        return !argon2String.startsWith("$argon2id$") || argon2.needsRehash(argon2String, ARGON2_OPTIONS);
      } catch {
        // Not an argon2 string: nothing verifies against it, so there is nothing to replace.
        return false;
      }
    },
    async accept(password, { email, name }) {
      const verdict = await policy.check(password, [email, email.split("@")[0] ?? "", name]);
      if (!verdict.ok) throw invalidField("password", verdict.reason, "WEAK_PASSWORD");
      if (!breached) return;
      let appearances: number;
      try {
        appearances = await breached.appearances(password);
      } catch (error) {
        // Fails open: the check is a second opinion on top of the policy, which has already accepted the
        // password, and the service is a third party. Failing closed would let its outage, or a slow
        // answer, stop every registration, reset and change of password here, which hurts more than a
        // breached password getting past for the length of the outage. The warning names why, never the
        // password nor its hash prefix.
        const reason = error instanceof BreachCheckFailed ? error.message : "unexpected error";
        log?.warn({ reason }, "breached-password check failed; the password was accepted without it");
        return;
      }
      if (appearances > 0) {
        throw invalidField("password", "this password has appeared in a data breach; choose another", "WEAK_PASSWORD");
      }
    },
  };
}
