import { describe, expect, it } from "vitest";
import { digestsEqual, MasterKey, sha256Hex } from "../src/crypto";
import { idMaker } from "../src/ids";

/** Ids as a domain makes them, for a kind of record of its own. */
const newId = idMaker<"usr">();

describe("at-rest encryption", () => {
  const key = new MasterKey(Buffer.alloc(32, 3));

  it("round-trips and never stores the plaintext", () => {
    const sealed = key.encrypt("JBSWY3DPEHPK3PXP", "totp");
    expect(sealed).not.toContain("JBSWY3DPEHPK3PXP");
    expect(key.decrypt(sealed, "totp")).toBe("JBSWY3DPEHPK3PXP");
    expect(key.encrypt("same", "totp")).not.toBe(key.encrypt("same", "totp"));
  });

  it("refuses a ciphertext moved to another purpose, a tampered one, or another master key", () => {
    const sealed = key.encrypt("secret", "totp");
    expect(() => key.decrypt(sealed, "signing-key")).toThrow();
    const parts = sealed.split(".");
    const body = Buffer.from(parts[2] ?? "", "base64url");
    body[0] = (body[0] ?? 0) ^ 1;
    parts[2] = body.toString("base64url");
    expect(() => key.decrypt(parts.join("."), "totp")).toThrow();
    expect(() => new MasterKey(Buffer.alloc(32, 4)).decrypt(sealed, "totp")).toThrow();
  });

  it("makes keyed look-up hashes that differ per purpose and per key", () => {
    const a = key.lookupHash("+918838118348", "phone");
    expect(a).toBe(key.lookupHash("+918838118348", "phone"));
    expect(a).not.toBe(key.lookupHash("+918838118348", "email"));
    expect(a).not.toBe(new MasterKey(Buffer.alloc(32, 4)).lookupHash("+918838118348", "phone"));
    expect(a).not.toBe(sha256Hex("+918838118348"));
  });

  it("compares digests only when equal in full", () => {
    expect(digestsEqual(sha256Hex("a"), sha256Hex("a"))).toBe(true);
    expect(digestsEqual(sha256Hex("a"), sha256Hex("b"))).toBe(false);
    expect(digestsEqual(sha256Hex("a"), sha256Hex("a").slice(0, 10))).toBe(false);
    expect(digestsEqual("", "")).toBe(false);
  });
});

describe("ids", () => {
  it("are prefixed, opaque, unique and sort by creation time", async () => {
    const first = newId("usr");
    await new Promise((r) => setTimeout(r, 2));
    const ids = Array.from({ length: 1000 }, () => newId("usr"));
    expect(first).toMatch(/^usr_[0-9a-hjkmnp-tv-z]{26}$/);
    expect(new Set(ids).size).toBe(1000);
    expect(ids.every((id) => id > first)).toBe(true);
  });
});
