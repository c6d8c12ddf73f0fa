// Client secrets are 256 bits from the operating system's CSPRNG, and the stored hash is of that secret.
import { randomBytes } from "node:crypto";
import { describe, expect, it, vi } from "vitest";
import { hashClientSecret, newClientCredentials, newClientSecret } from "../src/credentials";

vi.mock("node:crypto", async (original) => {
  const actual = await original<typeof import("node:crypto")>();
  return { ...actual, randomBytes: vi.fn(actual.randomBytes) };
});

describe("client secrets", () => {
  it("are 32 bytes crypto.randomBytes drew, when created and when rotated", () => {
    for (const make of [newClientCredentials, newClientSecret]) {
      const drawn = vi.mocked(randomBytes);
      drawn.mockClear();
      const { clientSecret, secretHash } = make();
      expect(drawn).toHaveBeenCalledExactlyOnceWith(32);
      const bytes = drawn.mock.results[0]?.value as Buffer;
      expect(Buffer.from(clientSecret, "base64url").equals(bytes)).toBe(true);
      expect(secretHash).toBe(hashClientSecret(clientSecret));
    }
  });
});
