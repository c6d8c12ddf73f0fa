import { createHash } from "node:crypto";

/** Whether a password is known from data breaches. */
export interface BreachedPasswords {
  /**
   * How many times the password appears in the breaches the service knows of (0: never). Rejects with
   * `BreachCheckFailed` when no answer could be had.
   */
  appearances(password: string): Promise<number>;
}

/** No answer from the breached-password service; the message names neither the password nor its hash. */
export class BreachCheckFailed extends Error {
  override name = "BreachCheckFailed";
}

/** A range answer is about 40 kB with padding; anything far larger is not one. */
const MAX_ANSWER_CHARS = 1_000_000;

/**
 * A breached-password range service (k-anonymity, the protocol of Have I Been Pwned's Pwned Passwords):
 * `GET <base>/range/<first 5 hex characters of the SHA-1, upper case>` answers the 35-character suffixes of
 * every listed hash with that prefix, one `<suffix>:<count>` a line. Only the 5-character prefix leaves the
 * process: the service cannot tell which of the hundreds of hashes in the range was asked about. The answer is
 * padded with decoy lines (count 0) so its size does not narrow the range either; they are skipped.
 */
export function rangeService(baseUrl: string, timeoutMs: number): BreachedPasswords {
  const base = baseUrl.replace(/\/+$/, "");
  return {
    async appearances(password) {
      const sha1 = createHash("sha1").update(password, "utf8").digest("hex").toUpperCase();
      const prefix = sha1.slice(0, 5);
      const suffix = sha1.slice(5);
      const body = await fetchRange(`${base}/range/${prefix}`, timeoutMs);
      for (const line of body.split("\n")) {
        const [candidate, count] = line.trim().split(":");
        if (candidate?.toUpperCase() !== suffix) continue;
        const times = Number(count);
        if (Number.isInteger(times) && times > 0) return times;
      }
      return 0;
    },
  };
}

/** The body of a range answer, or BreachCheckFailed; its message never holds the URL (which holds the prefix). */
async function fetchRange(url: string, timeoutMs: number): Promise<string> {
  let response: Response;
  try {
    response = await fetch(url, {
      headers: { "add-padding": "true", accept: "text/plain" },
      redirect: "error",
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (error) {
    throw new BreachCheckFailed(reasonOf(error, timeoutMs));
  }
  if (!response.ok) {
    await response.body?.cancel().catch(() => undefined);
    throw new BreachCheckFailed(`the service answered ${response.status}`);
  }
  let body: string;
  try {
    body = await response.text();
  } catch (error) {
    throw new BreachCheckFailed(reasonOf(error, timeoutMs));
  }
  if (body.length > MAX_ANSWER_CHARS) throw new BreachCheckFailed("the answer is too large to be a range");
  return body;
}

/** Why a request failed, in words that hold nothing of the request. */
function reasonOf(error: unknown, timeoutMs: number): string {
  const name = (error as { name?: unknown }).name;
  if (name === "TimeoutError" || name === "AbortError") return `no answer within ${timeoutMs} ms`;
  const code = (error as { cause?: { code?: unknown } }).cause?.code;
  return typeof code === "string" ? `the service is unreachable (${code})` : "the service is unreachable";
}
