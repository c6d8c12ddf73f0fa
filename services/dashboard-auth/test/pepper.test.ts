// Password hashes carry a pepper derived from the master key; hashes from before it still sign in and are
// replaced by peppered ones at the first login that proves the password.

import { buildDashboard, enrolledUser, loginAs, PASSWORD, post, registerOrganization } from "@ipaas/testing";
import argon2 from "argon2";
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { passwordPepper } from "../src/features/passwords/passwords";

const OWASP = { type: argon2.argon2id, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;
const PEPPERED = /^p1\$argon2id\$v=19\$m=19456,p=1,t=2\$/;

describe("password pepper", () => {
  let app: FastifyInstance;
  beforeAll(async () => {
    app = await buildDashboard();
  });
  afterAll(() => app.close());

  const userRow = (id: string) => app.db.user.findUniqueOrThrow({ where: { id } });

  it("stores a new password peppered: argon2 without the service's secret does not verify it", async () => {
    const org = await registerOrganization(app);
    const stored = (await userRow(org.userId)).passwordHash;
    expect(stored).toMatch(PEPPERED);
    const argon2String = stored.slice("p1".length);
    expect(await argon2.verify(argon2String, PASSWORD)).toBe(false);
    expect(await argon2.verify(argon2String, PASSWORD, { secret: passwordPepper(app.masterKey) })).toBe(true);
  });

  it("signs in with a hash from before the pepper and replaces it with a peppered one", async () => {
    const user = await enrolledUser(app);
    const legacy = await argon2.hash(PASSWORD, OWASP);
    await app.db.user.update({ where: { id: user.userId }, data: { passwordHash: legacy } });
    const { passwordChangedAt } = await userRow(user.userId);

    // A wrong password changes nothing.
    const wrong = await post(app, "/v1/auth/login", { email: user.email, password: "not the password at all" });
    expect(wrong.statusCode).toBe(401);
    expect((await userRow(user.userId)).passwordHash).toBe(legacy);

    // The whole login, second factor and session included, goes through with the hash replaced on the way.
    const session = await loginAs(app, user);
    expect((await post(app, "/v1/auth/verify-token", undefined, session.token)).statusCode).toBe(200);
    const upgraded = await userRow(user.userId);
    expect(upgraded.passwordHash).toMatch(PEPPERED);
    expect(upgraded.passwordHash).not.toContain(legacy);
    expect(await argon2.verify(upgraded.passwordHash.slice("p1".length), PASSWORD)).toBe(false);
    // Not a change of password: nothing that follows one (its time) moves.
    expect(upgraded.passwordChangedAt).toEqual(passwordChangedAt);

    // The peppered hash signs in from then on, and stays as it is.
    await loginAs(app, user);
    expect((await userRow(user.userId)).passwordHash).toBe(upgraded.passwordHash);
  });
});
