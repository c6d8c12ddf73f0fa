import { createCipheriv, hkdfSync, randomBytes } from "node:crypto";
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

  it("names the sealing key in every envelope, and after a rotation still opens what older keys sealed", () => {
    const oldKey = Buffer.alloc(32, 3);
    const newKey = Buffer.alloc(32, 5);
    const sealedBefore = key.encrypt("+918838118348", "end-user-phone:eu_1");
    expect(sealedBefore.split(".")).toHaveLength(5);
    expect(sealedBefore.split(".")[1]).toBe(key.keyId);
    const rotated = new MasterKey(newKey, { previous: [oldKey], indexKey: oldKey });
    expect(rotated.keyId).not.toBe(key.keyId);
    expect(rotated.decrypt(sealedBefore, "end-user-phone:eu_1")).toBe("+918838118348");
    const sealedAfter = rotated.encrypt("+918838118348", "end-user-phone:eu_1");
    expect(sealedAfter.split(".")[1]).toBe(rotated.keyId);
    // The old key alone cannot open what the new one sealed; a ring without the old key cannot open the old.
    expect(() => key.decrypt(sealedAfter, "end-user-phone:eu_1")).toThrow();
    expect(() => new MasterKey(newKey).decrypt(sealedBefore, "end-user-phone:eu_1")).toThrow();
    // Look-up hashes stay under the index key, so people are still found after the rotation.
    expect(rotated.lookupHash("+918838118348", "end-user-phone")).toBe(
      key.lookupHash("+918838118348", "end-user-phone"),
    );
    expect(new MasterKey(newKey).lookupHash("+918838118348", "end-user-phone")).not.toBe(
      key.lookupHash("+918838118348", "end-user-phone"),
    );
  });

  it("opens envelopes sealed before they named their key, under any key of the ring", () => {
    const oldKey = Buffer.alloc(32, 3);
    // The earlier format: v1.<iv>.<ciphertext>.<tag>, AES-256-GCM under HKDF(master key, "ipaas:enc:<purpose>").
    const iv = randomBytes(12);
    const cipher = createCipheriv(
      "aes-256-gcm",
      Buffer.from(hkdfSync("sha256", oldKey, Buffer.alloc(0), "ipaas:enc:totp", 32)),
      iv,
    );
    cipher.setAAD(Buffer.from("totp"));
    const body = Buffer.concat([cipher.update("JBSWY3DPEHPK3PXP", "utf8"), cipher.final()]);
    const legacy = ["v1", iv, body, cipher.getAuthTag()]
      .map((p) => (typeof p === "string" ? p : p.toString("base64url")))
      .join(".");
    expect(new MasterKey(oldKey).decrypt(legacy, "totp")).toBe("JBSWY3DPEHPK3PXP");
    expect(new MasterKey(Buffer.alloc(32, 5), { previous: [oldKey] }).decrypt(legacy, "totp")).toBe("JBSWY3DPEHPK3PXP");
    expect(() => new MasterKey(Buffer.alloc(32, 5)).decrypt(legacy, "totp")).toThrow();
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
