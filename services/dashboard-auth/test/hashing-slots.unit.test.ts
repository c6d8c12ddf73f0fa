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
});
