import { setTimeout as sleep } from "node:timers/promises";

/**
 * Waits until a token signed now postdates `cutoff` ("tokens issued before this instant are refused").
 * `iat` has one-second precision and a token from the cut-off's own second counts as issued before it, so
 * a token asked for just after a cut-off is signed once that second is over rather than born refused.
 * The wait is under a second and only happens right after a cut-off.
 */
export async function waitPastCutoff(cutoff: Date | null | undefined, now: () => number = Date.now): Promise<void> {
  if (!cutoff) return;
  const firstUsableSecond = Math.ceil(cutoff.getTime() / 1000) * 1000;
  for (let attempts = 0; attempts < 3; attempts++) {
    const wait = firstUsableSecond - now();
    if (wait <= 0 || wait > 1000) return;
    await sleep(wait + 1);
  }
}

/** Whether a token issued at `iat` (seconds) predates `cutoff`; a token from the cut-off's own second does. */
export function issuedBefore(iat: number, cutoff: Date | null | undefined): boolean {
  return cutoff != null && iat * 1000 < cutoff.getTime();
}
