// One-time codes are drawn digit by digit from the operating system's CSPRNG (crypto.randomInt).
import { randomInt } from "node:crypto";
import { describe, expect, it, vi } from "vitest";
import { randomCode } from "../src/domain/end-users/codes";

vi.mock("node:crypto", async (original) => {
  const actual = await original<typeof import("node:crypto")>();
  return { ...actual, randomInt: vi.fn(actual.randomInt) };
});

describe("one-time codes", () => {
  it("are digits crypto.randomInt drew, one draw of 0–9 per digit", () => {
    for (const length of [6, 7, 8]) {
      const drawn = vi.mocked(randomInt);
      drawn.mockClear();
      const code = randomCode(length);
      expect(code).toMatch(new RegExp(`^\\d{${length}}$`));
      expect(drawn.mock.calls).toEqual(Array.from({ length }, () => [10]));
      expect(code).toBe(drawn.mock.results.map((r) => String(r.value)).join(""));
    }
  });
});
