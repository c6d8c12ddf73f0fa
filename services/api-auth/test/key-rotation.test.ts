// Rotating the master key: what the old key sealed (the person's contact and name, the signing keys) still
// opens, people are still found by their contact, and what is written afterwards is sealed by the new key.

import { buildDeliveryWorld, type DeliveryWorld, newOrganization, tokenFor, withBearer } from "@ipaas/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const OLD_KEY = Buffer.alloc(32, 11).toString("base64");
const NEW_KEY = Buffer.alloc(32, 12).toString("base64");
/** The key id an envelope names (`v2.<key id>.…`). */
const keyIdOf = (envelope: string | null) => envelope?.split(".")[1];

describe("a master key rotation", () => {
  let world: DeliveryWorld;
  beforeAll(async () => {
    world = await buildDeliveryWorld({ MASTER_KEY: OLD_KEY });
  });
  afterAll(() => world.close());

  it("keeps every stored value readable, every person findable, and seals new values with the new key", async () => {
    const email = `rotation.${Date.now()}@example.test`;
    const org = await newOrganization(world.app, { scopes: ["otp"] });
    const verify = async () => {
      const partner = await tokenFor(world.app, org, { scope: "otp" });
      const sent = await withBearer(world.app, partner, "POST", "/v1/otp/send", {
        channel: "email",
        destination: email,
      });
      const { requestId } = sent.json() as { requestId: string };
      const verified = await withBearer(world.app, partner, "POST", "/v1/otp/verify", {
        requestId,
        code: await world.nextCode(email),
      });
      expect(verified.statusCode).toBe(200);
      return verified.json() as { userId: string; token: string; isNewUser: boolean };
    };
    const rename = (token: string, name: string) =>
      world.app.inject({
        method: "PATCH",
        url: "/v1/users/me",
        headers: { authorization: `Bearer ${token}` },
        payload: { name },
      });

    const before = await verify();
    expect((await rename(before.token, "Asha Verma")).statusCode).toBe(200);
    const person = () =>
      world.app.db.endUser.findFirstOrThrow({ where: { subjects: { some: { id: before.userId } } } });
    const oldKeyId = keyIdOf((await person()).emailEncrypted);

    await world.restart({ MASTER_KEY: NEW_KEY, MASTER_KEY_PREVIOUS: OLD_KEY, INDEX_KEY: OLD_KEY });
    const profile = await withBearer(world.app, before.token, "GET", "/v1/users/me");
    expect(profile.statusCode).toBe(200);
    expect(profile.json()).toMatchObject({ userId: before.userId, email, name: "Asha Verma" });
    // Found by the same keyed hash, and signed in with a signing key the old master key sealed.
    await world.app.db.otpChallenge.updateMany({
      where: { tenantId: org.id },
      data: { createdAt: new Date(Date.now() - 60_000) },
    });
    const after = await verify();
    expect(after).toMatchObject({ userId: before.userId, isNewUser: false });
    expect((await rename(after.token, "Asha V.")).statusCode).toBe(200);
    const renamed = await person();
    expect(keyIdOf(renamed.nameEncrypted)).not.toBe(oldKeyId);
    expect(keyIdOf(renamed.emailEncrypted)).toBe(oldKeyId);
  });
});
