import { isIP } from "node:net";
import type { Tx } from "@ipaas/db";
import { fail } from "../../errors";
import { recentSends } from "../../repositories/otp-challenges";
import { takeFromCounter } from "../../repositories/send-counters";

/**
 * After a destination's first code of the hour, a new code to it waits this long; the wait doubles with
 * each further code it got within the hour (30 s, 60 s, 120 s, 240 s), until the hourly cap holds.
 */
const RESEND_AFTER_SECONDS = 30;
/** Codes one destination receives from one organization per hour. */
const PER_DESTINATION_PER_HOUR = 5;
/** Codes the numbers of one range (all but the last four digits) receive from one organization per hour. */
const PER_RANGE_PER_HOUR = 20;
/**
 * Codes asked for from one address of a person (an IPv4 address or an IPv6 /64) per organization per hour:
 * generous, since mobile carriers put many people behind one address, yet it stops one machine from
 * spraying codes across destinations.
 */
const PER_ADDRESS_PER_HOUR = 30;

const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;

/**
 * When the next code may go to a destination that got codes at `sends` (ms; those over an hour old are
 * ignored), at `at` or later: the hourly cap must leave room, and the newest code must be older than the
 * wait for the number of codes within the hour. As codes leave the hour, the cap frees and the wait
 * shortens, so the answer is the first moment both hold.
 */
export function nextSendAt(sends: readonly number[], at: number): number {
  let t = at;
  for (;;) {
    const within = sends.filter((sent) => sent > t - HOUR_MS);
    if (within.length === 0) return t;
    const last = Math.max(...within);
    const leaves = Math.min(...within) + HOUR_MS;
    if (within.length >= PER_DESTINATION_PER_HOUR) {
      t = leaves;
      continue;
    }
    const ready = last + RESEND_AFTER_SECONDS * 1000 * 2 ** (within.length - 1);
    if (ready <= t) return t;
    // Before the wait ends, the oldest code may leave the hour and shorten it.
    t = Math.min(ready, leaves);
  }
}

/** Seconds to wait, as `Retry-After` and `resendAfter` give them. */
function secondsUntil(ms: number): number {
  return Math.max(1, Math.ceil(ms / 1000));
}

function refuse(what: string, retryAfterMs: number): never {
  const seconds = String(secondsUntil(retryAfterMs));
  throw fail("RATE_LIMITED", `${what}; try again in ${seconds} s`, { headers: { "retry-after": seconds } });
}

/**
 * Every limit a send must pass, checked and counted inside the send's transaction (the destination is
 * locked by the caller): the doubling resend wait and hourly cap per destination (see `nextSendAt`), the
 * hourly cap per number range (SMS pumping spreads over many numbers of one range), the hourly cap per
 * address of the person asking (when known), and the organization's daily budget. A refused send writes
 * nothing, its counts included. Returns the seconds until the destination may get another code.
 */
export async function takeSendAllowance(
  tx: Tx,
  send: {
    organizationId: string;
    destinationHash: string;
    rangeHash: string | null;
    /** The keyed hash of the person's address (see `addressKey`), when the caller knows it. */
    addressHash: string | null;
    dailyBudget: number;
  },
  now: Date,
): Promise<number> {
  const at = now.getTime();
  const recent = (await recentSends(tx, send.organizationId, send.destinationHash, new Date(at - HOUR_MS))).map(
    (sent) => sent.getTime(),
  );
  const next = nextSendAt(recent, at);
  if (next > at) {
    refuse(
      recent.length >= PER_DESTINATION_PER_HOUR
        ? "too many codes to this destination this hour"
        : "a code was sent to this destination recently",
      next - at,
    );
  }
  const hour = at - (at % HOUR_MS);
  if (send.rangeHash !== null) {
    const key = `range:${send.organizationId}:${send.rangeHash}`;
    if (!(await takeFromCounter(tx, key, new Date(hour), PER_RANGE_PER_HOUR))) {
      refuse("too many codes to numbers of this range this hour", hour + HOUR_MS - at);
    }
  }
  if (send.addressHash !== null) {
    const key = `address:${send.organizationId}:${send.addressHash}`;
    if (!(await takeFromCounter(tx, key, new Date(hour), PER_ADDRESS_PER_HOUR))) {
      refuse("too many codes asked for from this address this hour", hour + HOUR_MS - at);
    }
  }
  const day = at - (at % DAY_MS);
  if (!(await takeFromCounter(tx, `budget:${send.organizationId}`, new Date(day), send.dailyBudget))) {
    refuse("the organization's daily budget of codes is spent", day + DAY_MS - at);
  }
  return secondsUntil(nextSendAt([at, ...recent], at) - at);
}

/**
 * What an address is counted as: an IPv4 address itself, an IPv6 address by its /64 (one subscriber's
 * network, from which a single host can take any address); null when it is not an address.
 */
export function addressKey(ip: string): string | null {
  const version = isIP(ip);
  if (version === 4) return ip;
  if (version !== 6) return null;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  if (mapped) return mapped[1] as string;
  const [head = "", tail = ""] = ip.toLowerCase().split("::");
  const left = head ? head.split(":") : [];
  const right = tail ? tail.split(":") : [];
  const groups = [...left, ...Array(8 - left.length - right.length).fill("0"), ...right];
  return `${groups
    .slice(0, 4)
    .map((g) => Number.parseInt(g || "0", 16).toString(16))
    .join(":")}::/64`;
}
