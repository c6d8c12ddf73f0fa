// Postgres crashing while the delivery worker holds a one-time code, with the worker's database behind a
// TCP proxy of the test's: a crash before the send loses nothing and sends once; a crash after the send,
// while it is being recorded, sends the same code again once the worker's lease runs out (delivery is at
// least once: a message cannot be sent and recorded in one transaction), and the code is still used once.
import { type Db, openDatabaseAt } from "@ipaas/db";
import {
  buildDeliveryWorld,
  type DeliveryWorld,
  newOrganization,
  recordResult,
  TcpProxy,
  tokenFor,
  waitFor,
  withBearer,
} from "@ipaas/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { newPerson } from "./attack-world";
import { LeakWatch } from "./leaks";
import { crashPostgres, holdFirstUpdate } from "./postgres-faults";

describe("faults: Postgres crashes while a code is being delivered", () => {
  let world: DeliveryWorld;
  let proxy: TcpProxy;
  let direct: { db: Db; close(): Promise<void> };
  let call: (method: "GET" | "POST", url: string, body?: object) => ReturnType<typeof withBearer>;
  const leaks = new LeakWatch();
  const figures = { faults: 0, codesLost: 0, messagesPerCode: [] as number[] };

  beforeAll(async () => {
    world = await buildDeliveryWorld({ LOG_LEVEL: "trace" }, leaks.logs);
    const url = new URL(world.databaseUrl);
    proxy = await TcpProxy.create({ host: url.hostname, port: Number(url.port || 5432) });
    url.hostname = "127.0.0.1";
    url.port = String(proxy.port);
    await world.restart({ DATABASE_URL: url.toString() });
    direct = await openDatabaseAt(world.databaseUrl);
    const org = await newOrganization(world.app, { scopes: ["otp"] });
    const token = await tokenFor(world.app, org, { scope: "otp" });
    leaks.sent(org.clientSecret, token);
    call = (method, path, body) => withBearer(world.app, token, method, path, body);
  }, 60_000);
  afterAll(async () => {
    await world?.close();
    await proxy?.stop();
    await direct?.close();
    await recordResult("attacks.delivery-faults", figures);
  });

  const mailsTo = (email: string) => world.smtp.to(email).map((mail) => /(\d{6}) is your/.exec(mail.text)?.[1] ?? "");
  const status = async (requestId: string) =>
    ((await call("GET", `/v1/otp/requests/${requestId}`)).json() as { status: string }).status;

  /** Asks for a code for a new person while `hold` holds the worker's first matching update. */
  async function sendHeld(name: string, when: string) {
    const person = newPerson();
    leaks.sent(person.email);
    const held = await holdFirstUpdate(direct.db, name, "otp_challenges", when);
    const res = await call("POST", "/v1/otp/send", { channel: "email", destination: person.email });
    expect(res.statusCode).toBe(202);
    return { email: person.email, requestId: (res.json() as { requestId: string }).requestId, held };
  }

  async function verify(requestId: string, code: string) {
    leaks.sent(code);
    const res = await call("POST", "/v1/otp/verify", { requestId, code });
    const token = (res.json() as { token?: string }).token;
    if (token) leaks.sent(token);
    return res.statusCode;
  }

  it("crashes while the worker takes the request: nothing is lost, and the code is sent once", async () => {
    const { email, requestId, held } = await sendHeld("fault_lease", `NEW."deliveryAttempts" > OLD."deliveryAttempts"`);
    try {
      await held.reached();
      await crashPostgres(direct.db, proxy);
      figures.faults += 1;
      await waitFor("the request to be sent", async () => (await status(requestId)) === "sent", 30_000);
    } finally {
      await held.remove();
    }
    // Long enough for a second message, had the worker sent twice.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const codes = mailsTo(email);
    figures.messagesPerCode.push(codes.length);
    if (codes.length === 0) figures.codesLost += 1;
    expect(codes).toHaveLength(1);
    expect(await verify(requestId, codes[0] ?? "")).toBe(200);
  }, 60_000);

  it("crashes while the worker records a send: the same code again after the lease, used once", async () => {
    const { email, requestId, held } = await sendHeld(
      "fault_sent",
      `OLD."deliveryStatus" = 'QUEUED' AND NEW."deliveryStatus" = 'SENT'`,
    );
    try {
      await held.reached();
      expect(mailsTo(email)).toHaveLength(1);
      await crashPostgres(direct.db, proxy);
      figures.faults += 1;
      // The request still waits for its delivery; the lease the worker took (six seconds here) runs out first.
      await waitFor("the request to be sent", async () => (await status(requestId)) === "sent", 30_000);
    } finally {
      await held.remove();
    }
    const codes = mailsTo(email);
    figures.messagesPerCode.push(codes.length);
    expect(codes).toHaveLength(2);
    expect(codes[1]).toBe(codes[0]);
    expect(await verify(requestId, codes[0] ?? "")).toBe(200);
    expect(await verify(requestId, codes[0] ?? "")).toBe(400);
  }, 60_000);

  it("logged the faults without a secret: no code, token, secret or address", async () => {
    const { lines, found } = await leaks.recorded("delivery-faults");
    expect(lines).toBeGreaterThan(20);
    expect(found).toEqual([]);
  });
});
