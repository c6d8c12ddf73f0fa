// What the attack suite's apps log, searched for what must never be there: every secret a test sent or
// received (registered with `sent`), and anything shaped like one whatever sent it: a JWT, an API key, a
// TOTP secret, the test password, a test e-mail address or phone number.
import { LogCapture, PASSWORD, recordResult } from "@ipaas/testing";

const SHAPES: Array<[string, RegExp]> = [
  ["a JWT", /eyJ[\w-]{10,}\.eyJ[\w-]{10,}\.[\w-]+/],
  ["an API key", /ipaas_sk_[0-9a-f]{8}/],
  ["a TOTP secret", /\b[A-Z2-7]{32}\b/],
  // Bounded: a fuzzed value of 70,000 word characters on one line must not cost a quadratic search.
  ["an e-mail address", /[\w.+-]{1,64}@example\.test/],
  ["a phone number", /\+9[19]\d{9,11}/],
];

export class LeakWatch {
  readonly logs = new LogCapture();
  readonly #secrets = new Set<string>([PASSWORD]);

  /** Remembers values a test sent or received, to search the logs for (shorter than 6 characters: ignored). */
  sent(...values: Array<string | undefined>): void {
    for (const value of values) if (value && value.length >= 6) this.#secrets.add(value);
  }

  /** Lines searched, secrets searched for, and each one found (or shape seen) with the line's start. */
  report(): { lines: number; secrets: number; found: string[] } {
    const found: string[] = [];
    for (const line of this.logs.lines) {
      for (const secret of this.#secrets) if (holds(line, secret)) found.push(`a secret sent: ${line.slice(0, 160)}`);
      for (const [what, shape] of SHAPES) if (shape.test(line)) found.push(`${what}: ${line.slice(0, 160)}`);
    }
    return { lines: this.logs.lines.length, secrets: this.#secrets.size, found };
  }

  /** Records the report as `attacks.logs.<name>` and returns it. */
  async recorded(name: string) {
    const report = this.report();
    await recordResult(`attacks.logs.${name}`, {
      lines: report.lines,
      secrets: report.secrets,
      found: report.found.length,
    });
    return report;
  }
}

/**
 * Whether `line` holds `secret`. A code of digits counts only as a whole number: "674839" is not in a
 * response time of 0.16748399 ms.
 */
function holds(line: string, secret: string): boolean {
  if (!/^\d+$/.test(secret)) return line.includes(secret);
  return new RegExp(`(?<![\\d.])${secret}(?![\\d.])`).test(line);
}
