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

  it("tells before any work whether a check would be shed or the address told to wait, without taking a place", async () => {
    const slots = new HashingSlots(1, 1, 1);
    expect(() => slots.admit("10.0.0.1")).not.toThrow();
    let release = () => undefined as void;
    const held = slots.run(() => new Promise<void>((resolve) => (release = resolve)), "10.0.0.1");
    // The address holds its one place: it alone waits.
    expect(() => slots.admit("10.0.0.1")).toThrow(expect.objectContaining({ status: 429, code: "RATE_LIMITED" }));
    expect(() => slots.admit("10.0.0.2")).not.toThrow();
    const queued = slots.run(async () => undefined, "10.0.0.2");
    // One running and one waiting: anyone else is shed, and asking took no place.
    for (let i = 0; i < 3; i++) {
      expect(() => slots.admit("10.0.0.3")).toThrow(expect.objectContaining({ status: 503, code: "UNAVAILABLE" }));
    }
    release();
    await Promise.all([held, queued]);
    expect(() => slots.admit("10.0.0.3")).not.toThrow();
  });
});
