import { ZxcvbnFactory } from "@zxcvbn-ts/core";
import * as common from "@zxcvbn-ts/language-common";
import * as english from "@zxcvbn-ts/language-en";

const MIN_PASSWORD_LENGTH = 8;
/** Generous on purpose (passphrases, password managers); only a bound against abuse of the hash. */
export const MAX_PASSWORD_LENGTH = 256;
/** From this length on, only the blocklist applies (NIST SP 800-63B-4 §3.1.1.2: 15 for single factor). */
const LONG_ENOUGH = 15;

export type PasswordVerdict = { ok: true } | { ok: false; reason: string };

/**
 * NIST SP 800-63B-4 §3.1.1.2 and ASVS 6.2: at least 8 characters (counted as code points), no composition
 * rules, no truncation, and refused when it is a known common password. Below 15 characters the
 * password must also not be trivially guessable (zxcvbn score ≥ 2, about 10^6 guesses), so
 * "password1234" is refused while a long passphrase of any shape is accepted.
 */
export class PasswordPolicy {
  readonly #zxcvbn = new ZxcvbnFactory({
    translations: english.translations,
    graphs: common.adjacencyGraphs,
    dictionary: { ...common.dictionary, ...english.dictionary },
  });
  readonly #common: Set<string>;

  constructor() {
    // ~49k most common passwords, shipped with the package: the local blocklist.
    const passwords = (common.dictionary as Record<string, unknown>)["passwords-common"];
    if (!Array.isArray(passwords)) throw new Error("the common-password list is missing");
    this.#common = new Set(passwords.map((p) => String(p).toLowerCase()));
  }

  check(password: string, context: string[] = []): PasswordVerdict {
    const length = [...password].length;
    if (length < MIN_PASSWORD_LENGTH) return { ok: false, reason: `use at least ${MIN_PASSWORD_LENGTH} characters` };
    if (length > MAX_PASSWORD_LENGTH) return { ok: false, reason: `use at most ${MAX_PASSWORD_LENGTH} characters` };
    if (this.#common.has(password.toLowerCase())) {
      return { ok: false, reason: "this is one of the most common passwords" };
    }
    const lowered = password.toLowerCase();
    if (context.some((c) => c.length >= 4 && lowered === c.toLowerCase())) {
      return { ok: false, reason: "do not use your name or email as your password" };
    }
    if (length >= LONG_ENOUGH) return { ok: true };
    const result = this.#zxcvbn.check(password, context);
    if (result.score >= 2) return { ok: true };
    const warning = result.feedback.warning;
    const suggestion = result.feedback.suggestions[0];
    return {
      ok: false,
      reason:
        [warning, suggestion]
          .filter((s): s is string => Boolean(s))
          .map((s) => s.replace(/\.$/, ""))
          .join(". ") || "this password is too easy to guess",
    };
  }
}
