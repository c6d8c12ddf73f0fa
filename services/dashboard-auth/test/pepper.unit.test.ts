import { MasterKey } from "@ipaas/service-kit";
import argon2 from "argon2";
import { afterEach, describe, expect, it, vi } from "vitest";
import { createPasswords, passwordPepper } from "../src/features/passwords/passwords";

const OWASP = { type: argon2.argon2id, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;
const PASSWORD = "correct horse battery staple";
const KEY_A = Buffer.alloc(32, 1);
const KEY_B = Buffer.alloc(32, 2);

describe("peppered password hashes", () => {
  afterEach(() => vi.restoreAllMocks());

  it("verifies a new hash only with the pepper of the master key it was made under", async () => {
    const withA = await createPasswords({ pepper: passwordPepper(new MasterKey(KEY_A)) });
    const withB = await createPasswords({ pepper: passwordPepper(new MasterKey(KEY_B)) });
    const stored = await withA.hash(PASSWORD);
    expect(await withA.verify(stored, PASSWORD)).toBe(true);
    expect(await withA.verify(stored, "correct horse battery stapler")).toBe(false);
    expect(await withB.verify(stored, PASSWORD)).toBe(false);
    expect(await (await createPasswords()).verify(stored, PASSWORD)).toBe(false);
  });

  it("never stores what argon2 makes without the secret", async () => {
    const pepper = passwordPepper(new MasterKey(KEY_A));
    const stored = await (await createPasswords({ pepper })).hash(PASSWORD);
    expect(stored).toMatch(/^p1\$argon2id\$v=19\$m=19456,p=1,t=2\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+$/);
    const argon2String = stored.slice("p1".length);
    expect(await argon2.verify(argon2String, PASSWORD)).toBe(false);
    expect(await argon2.verify(argon2String, PASSWORD, { secret: pepper })).toBe(true);
    // The same salt without the secret: another hash.
    const salt = Buffer.from(argon2String.split("$")[4] ?? "", "base64");
    const unpeppered = await argon2.hash(PASSWORD, { ...OWASP, salt });
    expect(unpeppered.split("$")[4]).toBe(argon2String.split("$")[4]);
    expect(unpeppered).not.toBe(argon2String);
    expect(stored).not.toContain(unpeppered.split("$")[5] ?? "-");
  });

  it("verifies a hash from before the pepper as before, one argon2 run whatever the password", async () => {
    const passwords = await createPasswords({ pepper: passwordPepper(new MasterKey(KEY_A)) });
    const legacy = await argon2.hash(PASSWORD, OWASP);
    const peppered = await passwords.hash(PASSWORD);
    const verify = vi.spyOn(argon2, "verify");
    for (const stored of [legacy, peppered]) {
      for (const [password, expected] of [
        [PASSWORD, true],
        ["a wrong password", false],
      ] as const) {
        verify.mockClear();
        expect(await passwords.verify(stored, password)).toBe(expected);
        expect(verify).toHaveBeenCalledTimes(1);
      }
    }
  });

  it("asks for a new hash when the stored one has no pepper or other parameters, not when it is current", async () => {
    const passwords = await createPasswords({ pepper: passwordPepper(new MasterKey(KEY_A)) });
    expect(passwords.needsRehash(await passwords.hash(PASSWORD))).toBe(false);
    expect(passwords.needsRehash(await argon2.hash(PASSWORD, OWASP))).toBe(true);
    const weaker = await argon2.hash(PASSWORD, { ...OWASP, timeCost: 1, secret: passwordPepper(new MasterKey(KEY_A)) });
    expect(passwords.needsRehash(`p1${weaker}`)).toBe(true);
  });

  it("keeps the pepper across a rotation of MASTER_KEY that keeps the index key", () => {
    const before = passwordPepper(new MasterKey(KEY_A));
    expect(before).toHaveLength(32);
    expect(passwordPepper(new MasterKey(KEY_B, { previous: [KEY_A], indexKey: KEY_A }))).toEqual(before);
    expect(passwordPepper(new MasterKey(KEY_B))).not.toEqual(before);
  });
});
