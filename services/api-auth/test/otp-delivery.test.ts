// Delivery of one-time codes through the queue: the send request only queues; a worker sends by e-mail
// (a real SMTP server in the test) or through a Messages API gateway (a real HTTP server in the test),
// retries what may pass, and marks each request sent or failed, never sending one twice.
import { buildDeliveryWorld, type DeliveryWorld, newOrganization, tokenFor, waitFor, withBearer } from "@ipaas/testing";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";

describe("code delivery", () => {
  let world: DeliveryWorld;
  let call: (method: "GET" | "POST", url: string, body?: object) => ReturnType<typeof withBearer>;
  let orgName: string;
  let orgId: string;
  beforeAll(async () => {
    world = await buildDeliveryWorld();
    const org = await newOrganization(world.app, { scopes: ["otp"] });
    await world.app.db.tenant.update({ where: { id: org.id }, data: { otpChannels: ["sms", "email", "whatsapp"] } });
    orgId = org.id;
    orgName = (await world.app.db.tenant.findUniqueOrThrow({ where: { id: org.id } })).name;
    const token = await tokenFor(world.app, org, { scope: "otp" });
    call = (method, url, body) => withBearer(world.app, token, method, url, body);
  });
  afterAll(() => world.close());
  beforeEach(() => {
    world.gateway.answer = () => 201;
  });

  let counter = 0;
  const number = () => {
    counter += 1;
    return `+9198${String(Date.now()).slice(-6)}${String(counter).padStart(2, "0")}`;
  };

  async function send(channel: string, destination: string): Promise<string> {
    const res = await call("POST", "/v1/otp/send", { channel, destination });
    expect(res.statusCode).toBe(202);
    return (res.json() as { requestId: string }).requestId;
  }

  const state = async (requestId: string) =>
    (await call("GET", `/v1/otp/requests/${requestId}`)).json() as { status: string; sentAt: string | null };

  const settled = (requestId: string) =>
    waitFor(
      `request ${requestId} sent or failed`,
      async () => {
        const s = await state(requestId);
        return s.status === "queued" ? null : s;
      },
      15_000,
      20,
    );

  it("sends a code by e-mail, which the person then uses", async () => {
    const email = `reader.${Date.now()}@example.test`;
    const requestId = await send("email", email);
    const mail = await waitFor("the code's e-mail", () => world.smtp.to(email)[0] ?? null, 15_000, 20);
    expect(mail.text).toContain(`Subject: ${orgName} sign-in code`);
    expect(mail.text).toContain("text/html");
    const code = /(\d{6}) is your/.exec(mail.text)?.[1];
    expect(code).toBeDefined();
    expect(await settled(requestId)).toMatchObject({ status: "sent" });
    const verified = await call("POST", "/v1/otp/verify", { requestId, code });
    expect(verified.statusCode).toBe(200);
    // Sent: the code is no longer held for delivery.
    expect((await world.app.db.otpChallenge.findUniqueOrThrow({ where: { id: requestId } })).codeEncrypted).toBeNull();
  });

  it("sends SMS and WhatsApp through the gateway, with the gateway's credentials and the right sender", async () => {
    const phone = number();
    const sms = await send("sms", phone);
    expect(await settled(sms)).toMatchObject({ status: "sent" });
    const whatsapp = await send("whatsapp", number());
    expect(await settled(whatsapp)).toMatchObject({ status: "sent" });
    const [first, second] = world.gateway.delivered.slice(-2);
    expect(first).toMatchObject({
      path: "/2010-04-01/Accounts/AC_test/Messages.json",
      to: phone,
      from: "+15005550006",
    });
    expect(first?.authorization).toBe(`Basic ${Buffer.from("AC_test:gateway-token").toString("base64")}`);
    expect(first?.body).toMatch(new RegExp(`^\\d{6} is your ${orgName} sign-in code`));
    expect(second?.to).toMatch(/^whatsapp:\+91/);
    expect(second?.from).toBe("whatsapp:+15005550007");
  });

  it("retries a gateway that answers 500, and sends the message once", async () => {
    const before = world.gateway.received.length;
    world.gateway.answer = (n) => (n - before <= 2 ? 500 : 201);
    const requestId = await send("sms", number());
    expect(await settled(requestId)).toMatchObject({ status: "sent" });
    const tries = world.gateway.received.slice(before);
    expect(tries.map((t) => t.status)).toEqual([500, 500, 201]);
    const row = await world.app.db.otpChallenge.findUniqueOrThrow({ where: { id: requestId } });
    expect(row.deliveryAttempts).toBe(3);
  });

  it("marks a request failed after its tries at a gateway that hangs, and sends nothing twice", async () => {
    const before = world.gateway.received.length;
    world.gateway.answer = () => "hang";
    const requestId = await send("sms", number());
    expect(await settled(requestId)).toMatchObject({ status: "failed", sentAt: null });
    const tries = world.gateway.received.slice(before);
    expect(tries).toHaveLength(3);
    expect(tries.every((t) => t.to === tries[0]?.to)).toBe(true);
    const row = await world.app.db.otpChallenge.findUniqueOrThrow({ where: { id: requestId } });
    expect(row).toMatchObject({ deliveryStatus: "FAILED", codeEncrypted: null, deliveryError: "gateway timeout" });
    // Nothing comes later: the queue holds no retry of it.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(world.gateway.received.length - before).toBe(3);
  });

  it("does not retry what the gateway refuses for good", async () => {
    const before = world.gateway.received.length;
    world.gateway.answer = () => 400;
    const requestId = await send("sms", number());
    expect(await settled(requestId)).toMatchObject({ status: "failed" });
    expect(world.gateway.received.length - before).toBe(1);
  });

  it("leaves the organization's responses and the queue free of the person's contact", async () => {
    const email = `private.${Date.now()}@example.test`;
    const sent = await call("POST", "/v1/otp/send", { channel: "email", destination: email });
    const { requestId } = sent.json() as { requestId: string };
    await settled(requestId);
    const outbox = await world.app.db.outboxEvent.findMany({ where: { aggregateId: orgId } });
    expect(JSON.stringify(outbox)).not.toContain(email);
    for (const res of [sent, await call("GET", `/v1/otp/requests/${requestId}`)]) {
      expect(res.body).not.toContain(email);
    }
  });
});
