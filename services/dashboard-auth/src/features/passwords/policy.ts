import type { ZxcvbnFactory } from "@zxcvbn-ts/core";

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
  #loaded: Promise<{ zxcvbn: ZxcvbnFactory; common: Set<string> }> | null = null;

  /**
   * The dictionaries take about 45 MB of heap, so they are loaded at the first check that needs them rather
   * than at start: an instance that only signs people in never holds them.
   */
  #dictionaries(): Promise<{ zxcvbn: ZxcvbnFactory; common: Set<string> }> {
    this.#loaded ??= (async () => {
      const [{ ZxcvbnFactory }, common, english] = await Promise.all([
        import("@zxcvbn-ts/core"),
        import("@zxcvbn-ts/language-common"),
        import("@zxcvbn-ts/language-en"),
      ]);
      // ~49k most common passwords, shipped with the package: the local blocklist.
      const passwords = (common.dictionary as Record<string, unknown>)["passwords-common"];
      if (!Array.isArray(passwords)) throw new Error("the common-password list is missing");
      return {
        zxcvbn: new ZxcvbnFactory({
          translations: english.translations,
          graphs: common.adjacencyGraphs,
          dictionary: { ...common.dictionary, ...english.dictionary },
        }),
        common: new Set(passwords.map((p) => String(p).toLowerCase())),
      };
    })().catch((error: unknown) => {
      this.#loaded = null;
      throw error;
    });
    return this.#loaded;
  }

  async check(password: string, context: string[] = []): Promise<PasswordVerdict> {
    const length = [...password].length;
    if (length < MIN_PASSWORD_LENGTH) return { ok: false, reason: `use at least ${MIN_PASSWORD_LENGTH} characters` };
    if (length > MAX_PASSWORD_LENGTH) return { ok: false, reason: `use at most ${MAX_PASSWORD_LENGTH} characters` };
    const { zxcvbn, common } = await this.#dictionaries();
    if (common.has(password.toLowerCase())) {
      return { ok: false, reason: "this is one of the most common passwords" };
    }
    const lowered = password.toLowerCase();
    if (context.some((c) => c.length >= 4 && lowered === c.toLowerCase())) {
      return { ok: false, reason: "do not use your name or email as your password" };
    }
    if (length >= LONG_ENOUGH) return { ok: true };
    const result = zxcvbn.check(password, context);
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
