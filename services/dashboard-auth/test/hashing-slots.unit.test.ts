import { ProblemError } from "@ipaas/service-kit";
import { describe, expect, it } from "vitest";
import { HashingSlots } from "../src/features/passwords/passwords";

describe("bounded password hashing", () => {
  it("runs a bounded number at once, queues a bounded number, and sheds the rest with 503", async () => {
    const slots = new HashingSlots(2, 1);
    const releases: Array<() => void> = [];
    let running = 0;
    let peak = 0;
    const work = () =>
      slots.run(
        () =>
          new Promise<void>((resolve) => {
            running += 1;
            peak = Math.max(peak, running);
            releases.push(() => {
              running -= 1;
              resolve();
            });
          }),
      );
    const accepted = [work(), work(), work()];
    const shed = await work().catch((error: unknown) => error);
    expect(shed).toBeInstanceOf(ProblemError);
    expect(shed).toMatchObject({ status: 503, code: "UNAVAILABLE", extra: { headers: { "retry-after": "1" } } });
    // Release until everything queued has run; at most two ever ran together.
    while (releases.length > 0 || running > 0) {
      releases.shift()?.();
      await new Promise((r) => setImmediate(r));
    }
    await Promise.all(accepted);
    expect(peak).toBe(2);
  });

  it("takes a place before any work, so a request that would be shed is shed before it costs anything", async () => {
    const slots = new HashingSlots(1, 1, 1);
    const first = slots.enter("10.0.0.1");
    // The address holds its one place, even before its hashing started: it alone waits.
    expect(() => slots.enter("10.0.0.1")).toThrow(expect.objectContaining({ status: 429, code: "RATE_LIMITED" }));
    const second = slots.enter("10.0.0.2");
    // Both places are held (one about to run, one to wait): anyone else is shed, and refusals take no place.
    for (let i = 0; i < 3; i++) {
      expect(() => slots.enter("10.0.0.3")).toThrow(expect.objectContaining({ status: 503, code: "UNAVAILABLE" }));
    }
    let release: () => void = () => undefined;
    const running = first.run(
      () =>
        new Promise<void>((resolve) => {
          release = resolve;
        }),
    );
    let secondRan = false;
    const waiting = second.run(async () => {
      secondRan = true;
    });
    await new Promise((r) => setImmediate(r));
    expect(secondRan).toBe(false);
    release();
    await Promise.all([running, waiting]);
    expect(secondRan).toBe(true);
    // Leaving twice gives back one place.
    first.leave();
    first.leave();
    const third = slots.enter("10.0.0.3");
    expect(() => slots.enter("10.0.0.4")).toThrow(expect.objectContaining({ status: 503 }));
    second.leave();
    third.leave();
    expect(() => slots.enter("10.0.0.4").leave()).not.toThrow();
  });
});
