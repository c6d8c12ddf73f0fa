// The breached-password check against a range service of the k-anonymity kind, served in the test by a
// real HTTP server: what it refuses, what it accepts, what happens when it fails, and what it is told.

import { createHash, randomBytes } from "node:crypto";
import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { ConfigError } from "@ipaas/service-kit";
import {
  as,
  bankRegistration,
  buildDashboard,
  email,
  enrolledUser,
  freePort,
  grant,
  LogCapture,
  loginAs,
  organizationAdmin,
  post,
  testConfig,
} from "@ipaas/testing";
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dashboardConfig } from "../src/config";
import { createResetToken } from "../src/features/passwords/reset";

/** Long enough for the local policy (15+ characters, not on the common list): only the service refuses it. */
const LISTED = "a passphrase that leaked in a breach";
/** In the service's answer too, but only as a padding line (count 0). */
const PADDED = "a passphrase only padding mentions";
const BREACH_MESSAGE = "this password has appeared in a data breach; choose another";

const sha1 = (password: string) => createHash("sha1").update(password, "utf8").digest("hex").toUpperCase();

/** A range service: `GET /range/<prefix>` answers `<suffix>:<count>` lines, padded when asked to be. */
class RangeServer {
  readonly requests: Array<{ method: string; url: string; headers: IncomingHttpHeaders }> = [];
  /** `answer` as the real service; `slow` never within the timeout; `error` a 503. */
  mode: "answer" | "slow" | "error" = "answer";
  readonly #held = new Set<ServerResponse>();

  private constructor(
    private readonly server: Server,
    private readonly listed: Map<string, number>,
  ) {}

  static async start(listed: Record<string, number>, padded: string[]): Promise<RangeServer> {
    const hashes = new Map(Object.entries(listed).map(([password, count]) => [sha1(password), count]));
    for (const password of padded) hashes.set(sha1(password), 0);
    let range: RangeServer | undefined;
    const server = createServer((request, response) => range?.serve(request.method ?? "", request, response));
    range = new RangeServer(server, hashes);
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    return range;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  serve(method: string, request: { url?: string; headers: IncomingHttpHeaders }, response: ServerResponse) {
    this.requests.push({ method, url: request.url ?? "", headers: request.headers });
    if (this.mode === "error") {
      response.writeHead(503).end("unavailable");
      return;
    }
    if (this.mode === "slow") {
      this.#held.add(response);
      return;
    }
    const prefix = /^\/range\/([0-9A-F]{5})$/.exec(request.url ?? "")?.[1];
    if (method !== "GET" || !prefix) {
      response.writeHead(400).end("bad range");
      return;
    }
    const lines: string[] = [];
    for (const [hash, count] of this.listed) {
      // Count 0 is a padding line: it is only sent with padding, as by the real service.
      if (hash.startsWith(prefix) && (count > 0 || request.headers["add-padding"] === "true")) {
        lines.push(`${hash.slice(5)}:${count}`);
      }
    }
    if (request.headers["add-padding"] === "true") {
      for (let i = 0; i < 50; i++) lines.push(`${randomBytes(18).toString("hex").slice(0, 35).toUpperCase()}:0`);
    }
    response.writeHead(200, { "content-type": "text/plain" }).end(lines.sort().join("\r\n"));
  }

  async close(): Promise<void> {
    for (const response of this.#held) response.destroy();
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }
}

/** The problem a refusal answers with, but its request id and its reason (the message and the detail). */
function problemShape(body: { requestId?: string; detail?: string; errors: Array<{ message?: string }> }) {
  const { requestId: _ignored, detail, errors, ...rest } = body;
  return {
    ...rest,
    detail: detail?.split(":")[0],
    errors: errors.map(({ message: _message, ...error }) => error),
  };
}

describe("breached passwords", () => {
  let app: FastifyInstance;
  let range: RangeServer;
  const logs = new LogCapture();
  beforeAll(async () => {
    range = await RangeServer.start({ [LISTED]: 3861, "another leaked passphrase entirely": 12 }, [PADDED]);
    app = await buildDashboard(
      { LOG_LEVEL: "warn", BREACHED_PASSWORDS_URL: range.url, BREACHED_PASSWORDS_TIMEOUT_MS: "300" },
      logs,
    );
  });
  afterAll(async () => {
    await app.close();
    await range.close();
  });

  const registerBankWith = (password: string, address = email("breach")) =>
    bankRegistration(app, { email: address, password });

  /** Every request the service received asked for a 5-hex prefix with padding, and carried nothing else. */
  function expectOnlyPrefixesSent() {
    expect(range.requests.length).toBeGreaterThan(0);
    for (const { method, url, headers } of range.requests) {
      expect(method).toBe("GET");
      expect(url).toMatch(/^\/range\/[0-9A-F]{5}$/);
      expect(headers["add-padding"]).toBe("true");
      expect(headers["content-length"] ?? "0").toBe("0");
      expect(headers.authorization).toBeUndefined();
    }
  }

  it("refuses a listed password at registration with the policy's WEAK_PASSWORD problem, and writes nothing", async () => {
    const address = email("breach");
    const res = await registerBankWith(LISTED, address);
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({
      code: "WEAK_PASSWORD",
      errors: [{ field: "password", message: BREACH_MESSAGE }],
    });
    expect(await app.db.user.findUnique({ where: { email: address } })).toBeNull();
    // The same problem as a refusal by the policy, but for its message.
    const weak = await registerBankWith("password1234");
    expect(weak.json().code).toBe("WEAK_PASSWORD");
    expect(problemShape(res.json())).toEqual(problemShape(weak.json()));
    expect(range.requests.at(-1)?.url).toBe(`/range/${sha1(LISTED).slice(0, 5)}`);
  });

  it("accepts a password the service does not list, its padding lines (count 0) included", async () => {
    const before = range.requests.length;
    const res = await registerBankWith(PADDED);
    expect(res.statusCode, res.body).toBe(201);
    expect(range.requests.slice(before).map((r) => r.url)).toEqual([`/range/${sha1(PADDED).slice(0, 5)}`]);
    expect((await registerBankWith("an unlisted passphrase of my own")).statusCode).toBe(201);
  });

  it("asks the service only about a password the local policy accepts", async () => {
    const before = range.requests.length;
    expect((await registerBankWith("password1234")).json().code).toBe("WEAK_PASSWORD");
    expect((await registerBankWith("Sh0rt!x")).json().code).toBe("WEAK_PASSWORD");
    expect(range.requests.length).toBe(before);
  });

  it("checks the new password at change, reset, and user creation by an administrator", async () => {
    const user = await enrolledUser(app);
    const session = await loginAs(app, user);
    const hashOf = async () => (await app.db.user.findUniqueOrThrow({ where: { id: user.userId } })).passwordHash;
    const stored = await hashOf();
    const change = (password: string) =>
      app.inject({
        method: "PUT",
        url: "/v1/users/change-password",
        payload: { current_password: user.password, password, confirm_password: password },
        headers: { authorization: `Bearer ${session.token}` },
      });
    const changed = await change(LISTED);
    expect(changed.statusCode).toBe(400);
    expect(changed.json()).toMatchObject({
      code: "WEAK_PASSWORD",
      errors: [{ field: "password", message: BREACH_MESSAGE }],
    });
    expect(await hashOf()).toBe(stored);

    const token = await createResetToken(app.db, user.userId);
    const reset = await post(app, "/v1/auth/reset-password", { token, password: LISTED });
    expect(reset.statusCode).toBe(400);
    expect(reset.json()).toMatchObject({
      code: "WEAK_PASSWORD",
      errors: [{ field: "password", message: BREACH_MESSAGE }],
    });
    expect(await hashOf()).toBe(stored);
    // The link was not used up by the refusal.
    expect((await post(app, "/v1/auth/reset-password", { token, password: PADDED })).statusCode).toBe(200);

    const admin = await organizationAdmin(app);
    const api = as(app, admin.token);
    const roles = (await api.get("/v1/roles")).json() as Array<{ id: string; role: string }>;
    const memberEmail = email("member");
    const created = await api.post("/v1/users", {
      email: memberEmail,
      name: "Member",
      role_id: roles.find((r) => r.role === "Admin")?.id,
      permissions: [grant("users", "r")],
      password: LISTED,
    });
    expect(created.statusCode).toBe(400);
    expect(created.json()).toMatchObject({
      code: "WEAK_PASSWORD",
      errors: [{ field: "password", message: BREACH_MESSAGE }],
    });
    expect(await app.db.user.findUnique({ where: { email: memberEmail } })).toBeNull();
  });

  it("accepts the password when the service fails, is slow or is down, and warns without the password or its hash prefix", async () => {
    const warnings = () =>
      logs.lines
        .map((line) => JSON.parse(line) as { level: number; msg: string; reason?: string })
        .filter((entry) => entry.msg.startsWith("breached-password check failed"));
    const passwords = ["failing service passphrase one", "slow service passphrase two", LISTED];
    try {
      range.mode = "error";
      expect((await registerBankWith(passwords[0] ?? "")).statusCode).toBe(201);
      range.mode = "slow";
      const started = Date.now();
      // Even a listed password passes while the service cannot say so.
      expect((await registerBankWith(passwords[2] ?? "")).statusCode).toBe(201);
      expect(Date.now() - started).toBeLessThan(5_000);
      expect((await registerBankWith(passwords[1] ?? "")).statusCode).toBe(201);
      // The rest of the policy still applies.
      expect((await registerBankWith("password1234")).json().code).toBe("WEAK_PASSWORD");
    } finally {
      range.mode = "answer";
    }
    expect(warnings().map((w) => [w.level, w.reason])).toEqual([
      [40, "the service answered 503"],
      [40, "no answer within 300 ms"],
      [40, "no answer within 300 ms"],
    ]);

    const downLogs = new LogCapture();
    const down = await buildDashboard(
      { LOG_LEVEL: "warn", BREACHED_PASSWORDS_URL: `http://127.0.0.1:${await freePort()}` },
      downLogs,
    );
    try {
      const res = await post(down, "/v1/auth/banks/register", {
        bankName: "B",
        branch: "b",
        name: "N",
        email: email("down"),
        password: LISTED,
        address: {},
      });
      expect(res.statusCode, res.body).toBe(201);
    } finally {
      await down.close();
    }
    const downWarning = downLogs.lines.map((line) => JSON.parse(line)).find((e) => e.msg.startsWith("breached"));
    expect(downWarning).toMatchObject({ level: 40, reason: "the service is unreachable (ECONNREFUSED)" });

    const written = `${logs.text}\n${downLogs.text}`;
    for (const password of passwords) {
      expect(written).not.toContain(password);
      expect(written).not.toContain(sha1(password));
    }
    for (const line of [...warnings(), downWarning]) {
      const text = JSON.stringify(line);
      expect(text).not.toContain("/range/");
      for (const password of passwords) expect(text).not.toContain(sha1(password).slice(0, 5));
    }
  });

  it("sends the service only the first 5 hex characters of the SHA-1, upper case, asking for padding", () => {
    expectOnlyPrefixesSent();
    const sent = new Set(range.requests.map((r) => r.url.slice("/range/".length)));
    expect(sent).toContain(sha1(LISTED).slice(0, 5));
    for (const prefix of sent) expect(prefix).toMatch(/^[0-9A-F]{5}$/);
  });

  it("is off unless BREACHED_PASSWORDS_URL is set, and production refuses it over plain http", () => {
    const base = { MASTER_KEY: Buffer.alloc(32, 1).toString("base64"), SMTP_URL: "smtp://mail.example.test" };
    expect(testConfig({}, dashboardConfig.load).BREACHED_PASSWORDS_URL).toBeUndefined();
    const production = (url: string) =>
      testConfig({ ...base, NODE_ENV: "production", BREACHED_PASSWORDS_URL: url }, dashboardConfig.load);
    expect(() => production("http://range.example.test")).toThrow(ConfigError);
    expect(() => production("http://range.example.test")).toThrow(/BREACHED_PASSWORDS_URL: must be https/);
    expect(production("https://api.pwnedpasswords.com").BREACHED_PASSWORDS_URL).toBe("https://api.pwnedpasswords.com");
  });
});
