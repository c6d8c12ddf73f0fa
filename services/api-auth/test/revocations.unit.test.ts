// What answers "is this token revoked?": the in-memory set only while it is live, else the database,
// whose failure is not turned into an answer.
import type { Db } from "@ipaas/db";
import { describe, expect, it } from "vitest";
import { Revocations, RevokedSet } from "../src/domain/revocations";

/** A database whose every statement fails, as when Postgres is unreachable. */
const unreachable = new Proxy({} as Db, {
  get: () => {
    throw new Error("database unreachable");
  },
});

describe("RevokedSet", () => {
  it("holds an id until its token would have expired, and prunes it after", () => {
    let now = 1_000_000;
    const set = new RevokedSet(() => now);
    set.add("a", new Date(now + 60_000));
    set.add("gone", new Date(now - 1));
    expect(set.has("a")).toBe(true);
    expect(set.has("gone")).toBe(false);
    expect(set.size).toBe(1);
    now += 60_000;
    expect(set.has("a")).toBe(false);
    set.prune();
    expect(set.size).toBe(0);
  });

  it("keeps the later expiry when an id is added twice", () => {
    const now = 1_000_000;
    const set = new RevokedSet(() => now);
    set.add("a", new Date(now + 120_000));
    set.add("a", new Date(now + 60_000));
    expect(set.has("a")).toBe(true);
  });
});

describe("Revocations", () => {
  it("answers from memory while live, without the database", async () => {
    const set = new RevokedSet();
    set.add("revoked", new Date(Date.now() + 60_000));
    const revocations = new Revocations(unreachable, set, () => true);
    expect(await revocations.isRevoked("revoked")).toBe(true);
    expect(await revocations.isRevoked("other")).toBe(false);
  });

  it("asks the database when not live, and fails closed when it cannot", async () => {
    const revocations = new Revocations(unreachable, new RevokedSet(), () => false);
    await expect(revocations.isRevoked("other")).rejects.toThrow();
  });
});
