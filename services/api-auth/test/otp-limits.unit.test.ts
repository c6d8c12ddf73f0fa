// When the next code may go to a destination: a wait that doubles with each code of the hour, and a cap
// of five an hour, both easing as codes leave the hour.

import { describe, expect, it } from "vitest";
import { nextSendAt } from "../src/domain/end-users/send-limits";

const S = 1000;
const MIN = 60 * S;
const at = Date.UTC(2025, 0, 1, 12, 0, 0);

describe("nextSendAt", () => {
  it("lets a destination with no code in the hour have one at once", () => {
    expect(nextSendAt([], at)).toBe(at);
    expect(nextSendAt([at - 60 * MIN, at - 90 * MIN], at)).toBe(at);
  });

  it("waits 30 s after the first code of the hour, then 60 s, 120 s and 240 s", () => {
    expect(nextSendAt([at], at)).toBe(at + 30 * S);
    expect(nextSendAt([at, at - 31 * S], at)).toBe(at + 60 * S);
    expect(nextSendAt([at, at - 61 * S, at - 92 * S], at)).toBe(at + 120 * S);
    expect(nextSendAt([at, at - 121 * S, at - 182 * S, at - 213 * S], at)).toBe(at + 240 * S);
    // In whatever order the send times come.
    expect(nextSendAt([at - 92 * S, at, at - 61 * S], at)).toBe(at + 120 * S);
    // Part of the wait gone: the rest of it.
    expect(nextSendAt([at - 100 * S, at - 200 * S, at - 300 * S], at)).toBe(at + 20 * S);
    expect(nextSendAt([at - 120 * S, at - 200 * S, at - 300 * S], at)).toBe(at);
  });

  it("holds a fifth code's destination until the oldest of the five leaves the hour", () => {
    const five = [at - 10 * MIN, at - 20 * MIN, at - 30 * MIN, at - 40 * MIN, at - 50 * MIN];
    expect(nextSendAt(five, at)).toBe(at + 10 * MIN);
    // Five in quick succession: once the oldest leaves, four remain and the newest is long past 240 s.
    const quick = [at - 450 * S, at - 690 * S, at - 810 * S, at - 870 * S, at - 900 * S];
    expect(nextSendAt(quick, at)).toBe(at + 45 * MIN);
  });

  it("shortens a wait when the oldest code leaves the hour before it ends", () => {
    // Two codes: 60 s from the newest, but the oldest leaves in 10 s and one code asks only 30 s.
    expect(nextSendAt([at - 10 * S, at - 59 * MIN - 50 * S], at)).toBe(at + 20 * S);
    // Five codes, the oldest leaving in 5 s; four then ask 240 s from a newest code sent 100 s ago.
    const five = [at - 100 * S, at - 20 * MIN, at - 30 * MIN, at - 40 * MIN, at - 59 * MIN - 55 * S];
    expect(nextSendAt(five, at)).toBe(at + 140 * S);
  });
});
