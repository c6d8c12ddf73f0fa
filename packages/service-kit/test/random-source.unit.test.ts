// Secrets come from the operating system's CSPRNG: every byte of a token is a byte crypto.randomBytes gave.
import { randomBytes } from "node:crypto";
import { describe, expect, it, vi } from "vitest";
import { randomToken } from "../src/crypto";

vi.mock("node:crypto", async (original) => {
  const actual = await original<typeof import("node:crypto")>();
  return { ...actual, randomBytes: vi.fn(actual.randomBytes) };
});

describe("random tokens", () => {
  it("are the bytes crypto.randomBytes drew, 256 bits by default, base64url", () => {
    const drawn = vi.mocked(randomBytes);
    drawn.mockClear();
    const token = randomToken();
    expect(drawn).toHaveBeenCalledExactlyOnceWith(32);
    const bytes = drawn.mock.results[0]?.value as Buffer;
    expect(Buffer.from(token, "base64url").equals(bytes)).toBe(true);
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(randomToken()).not.toBe(token);
  });
});
