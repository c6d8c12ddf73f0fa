// `pnpm demo` (development only): the platform owner, a bank, an organization with one-time codes and its
// Super Admin with two-factor, made through the running services' own API (the owner, who has no API to be
// created by, through the same code as `admin bootstrap`). Then it prints the logins, the TOTP secrets, the
// organization's API key and `curl` lines for every flow. A second run reuses what the first made.
// On servers (DATABASE_URL and NATS_URL set) it works against the services `pnpm dev` runs. In the embedded
// mode, whose database one process at a time may open, it runs both services itself and keeps them up.
import { chmod, mkdir, readFile, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { createDb, type Db } from "@ipaas/db";
import { credentialsOfApiKey } from "@ipaas/domain";
import { loadDotEnv, type MasterKey, masterKeyOf } from "@ipaas/service-kit";
import { apiConfig } from "api-auth";
import { bootstrapOwner, createPasswords, dashboardConfig, passwordPepper, setupLink } from "dashboard-auth";
import { generate } from "otplib";
import { EmbeddedRefused, startEmbedded } from "./embedded";

const PASSWORD = "violet-harbour-kestrel-1917";
const OWNER = { email: "owner@demo.example.test", name: "Demo Owner" };
const BANK = { email: "bank.admin@demo.example.test", name: "Bank Admin", bankName: "Demo Bank", branch: "Noida" };
const ORG = { email: "org.admin@demo.example.test", name: "Super Admin", companyName: "Demo Biller" };
/** A phone number no one has: the development provider only writes the code to api-auth's log. */
const DEMO_PHONE = "+919800000001";
/** What the demo keeps between runs (`DEMO_STATE_FILE`): the API key, which the database holds only as a hash. */
const STATE_FILE = process.env.DEMO_STATE_FILE ?? join(import.meta.dirname, "..", "..", "..", ".data", "demo.json");

class DemoError extends Error {}

function out(line = ""): void {
  process.stdout.write(`${line}\n`);
}

interface Answer {
  status: number;
  body: Record<string, unknown>;
}

/** A JSON request to one of the services. */
async function call(url: string, method: string, body?: object, token?: string): Promise<Answer> {
  const headers: Record<string, string> = {};
  if (body) headers["content-type"] = "application/json";
  if (token) headers.authorization = `Bearer ${token}`;
  const res = await fetch(url, { method, headers, ...(body ? { body: JSON.stringify(body) } : {}) });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

function expectStatus(answer: Answer, statuses: number[], what: string): Record<string, unknown> {
  if (!statuses.includes(answer.status)) {
    const { code, detail } = answer.body;
    throw new DemoError(`${what}: ${answer.status} ${String(code ?? "")} ${String(detail ?? "")}`.trim());
  }
  return answer.body;
}

/** A TOTP code for the 30-second step `ahead` steps from now. */
function totpCode(secret: string, ahead = 0): Promise<string> {
  return generate({ secret, epoch: Math.floor(Date.now() / 1000) + ahead * 30 });
}

class Demo {
  constructor(
    private readonly db: Db,
    private readonly masterKey: MasterKey,
    private readonly dashboard: string,
    private readonly api: string,
  ) {}

  /**
   * Signs a user in with password and TOTP, setting two-factor up first when it is not; returns the access
   * token and the TOTP secret. A code is accepted once, so the login uses the next time step (the set-up
   * used this one), and when an earlier run used that one too, waits for the step after it.
   */
  async signIn(path: string, email: string): Promise<{ token: string; secret: string }> {
    const first = expectStatus(
      await call(`${this.dashboard}${path}`, "POST", { email, password: PASSWORD }),
      [200, 401],
      `login of ${email}`,
    );
    let secret: string;
    if (first.twoFactorSetupRequired === true) {
      const setupToken = String(first.setupToken);
      const setup = expectStatus(
        await call(`${this.dashboard}/v1/auth/2fa/setup`, "POST", undefined, setupToken),
        [200],
        "2FA set-up",
      );
      secret = String(setup.secret);
      const code = await totpCode(secret);
      expectStatus(
        await call(`${this.dashboard}/v1/auth/2fa/verify`, "POST", { code }, setupToken),
        [200],
        "2FA confirmation",
      );
    } else if (first.code === "TWO_FACTOR_REQUIRED") {
      secret = await this.#secretOf(email);
    } else {
      throw new DemoError(`login of ${email}: ${String(first.code)} (was the demo password changed?)`);
    }
    for (const last of [false, true]) {
      const code = await totpCode(secret, 1);
      const answer = await call(`${this.dashboard}${path}`, "POST", { email, password: PASSWORD, code });
      if (answer.status === 200) return { token: String(answer.body.token), secret };
      if (answer.body.code !== "INVALID_TWO_FACTOR_CODE" || last) expectStatus(answer, [200], `login of ${email}`);
      // That step was used by an earlier run: wait for the next one.
      await new Promise((resolve) => setTimeout(resolve, 30_000 - (Date.now() % 30_000) + 100));
    }
    throw new DemoError(`login of ${email}: no code was accepted`);
  }

  /** The user's TOTP secret, decrypted as the service decrypts it (development keys only). */
  async #secretOf(email: string): Promise<string> {
    const user = await this.db.user.findUniqueOrThrow({ where: { email }, include: { totp: true } });
    if (!user.totp) throw new DemoError(`${email} has no authenticator`);
    return this.masterKey.decrypt(user.totp.secretEncrypted, `totp:${user.id}`);
  }

  async owner(): Promise<{ token: string; secret: string }> {
    const main = await this.db.tenant.findFirst({ where: { kind: "MAIN" }, include: { users: true } });
    const owner = main?.users.find((u) => u.email === OWNER.email);
    if (main && !owner) {
      throw new DemoError("this database has a platform owner of its own: run the demo on a fresh database");
    }
    // The owner sets a password from a one-time link; an earlier run that stopped before may have left it unset.
    if (!owner || owner.passwordChangedAt === null) {
      const { setupToken } = owner
        ? await setupLink(this.db, OWNER.email)
        : await bootstrapOwner(this.db, await createPasswords({ pepper: passwordPepper(this.masterKey) }), OWNER);
      const reset = await call(`${this.dashboard}/v1/auth/reset-password`, "POST", {
        token: setupToken,
        password: PASSWORD,
      });
      expectStatus(reset, [200], "the owner's password");
    }
    return this.signIn("/v1/auth/login", OWNER.email);
  }

  async bank(ownerToken: string): Promise<{ bankId: string; token: string; secret: string }> {
    let admin = await this.db.user.findUnique({ where: { email: BANK.email }, include: { tenant: true } });
    if (!admin) {
      const registered = await call(`${this.dashboard}/v1/auth/banks/register`, "POST", {
        bankName: BANK.bankName,
        branch: BANK.branch,
        name: BANK.name,
        email: BANK.email,
        password: PASSWORD,
        address: { city: "Noida", country: "IN" },
      });
      expectStatus(registered, [201], "bank registration");
      admin = await this.db.user.findUniqueOrThrow({ where: { email: BANK.email }, include: { tenant: true } });
    }
    const bankId = admin.tenantId;
    if (admin.tenant.status === "PENDING") {
      expectStatus(
        await call(`${this.dashboard}/v1/banks/${bankId}/approve`, "POST", undefined, ownerToken),
        [200],
        "bank approval",
      );
    }
    const session = await this.signIn("/v1/auth/banks/login", BANK.email);
    // Its organizations start Active and may send codes by SMS and e-mail to Indian numbers.
    const terms = await call(
      `${this.dashboard}/v1/banks/${bankId}`,
      "PUT",
      {
        organizationSelfRegistration: true,
        organizationOtp: {
          channels: ["sms", "email"],
          allowedCountries: ["IN"],
          maxDailyBudget: 1000,
          maxUserTokenTtlSeconds: 3600,
          requireDeviceBinding: false,
        },
      },
      session.token,
    );
    expectStatus(terms, [200], "the bank's terms");
    return { bankId, ...session };
  }

  async organization(bank: { bankId: string; token: string }) {
    let apiKey: string | undefined;
    let admin = await this.db.user.findUnique({ where: { email: ORG.email } });
    if (!admin) {
      const registered = await call(`${this.dashboard}/v1/auth/register`, "POST", {
        bankId: bank.bankId,
        companyName: ORG.companyName,
        phone: "9898989812",
        gst: "29ABCDE1234F1Z5",
        type: "Biller",
        scopes: ["otp"],
        email: ORG.email,
        name: ORG.name,
        password: PASSWORD,
      });
      apiKey = String(expectStatus(registered, [201], "organization registration").apiKey);
      admin = await this.db.user.findUniqueOrThrow({ where: { email: ORG.email } });
    }
    const orgId = admin.tenantId;
    const tenant = await this.db.tenant.findUniqueOrThrow({ where: { id: orgId } });
    if (tenant.status === "PENDING") {
      const approve = await call(`${this.dashboard}/v1/organizations/${orgId}/approve`, "POST", undefined, bank.token);
      expectStatus(approve, [200], "organization approval");
    }
    const session = await this.signIn("/v1/auth/login", ORG.email);
    apiKey ??= await this.#savedKey(orgId);
    if (!apiKey || !(await this.#partnerToken(apiKey))) {
      // The key is stored only as a hash: a lost one is replaced by rotating the secret.
      const rotated = await call(`${this.dashboard}/v1/organizations/credential`, "PATCH", {}, session.token);
      apiKey = String(expectStatus(rotated, [200], "secret rotation").apiKey);
    }
    await this.#saveKey(orgId, apiKey);
    return { orgId, apiKey, ...session };
  }

  /** Whether api-auth issues a partner token for the key (one try: failures count towards a lockout). */
  async #partnerToken(apiKey: string): Promise<boolean> {
    const { clientKey, clientSecret } = credentialsOf(apiKey);
    const basic = Buffer.from(`${encodeURIComponent(clientKey)}:${encodeURIComponent(clientSecret)}`);
    const res = await fetch(`${this.api}/v1/auth/token`, {
      method: "POST",
      headers: {
        authorization: `Basic ${basic.toString("base64")}`,
        "content-type": "application/x-www-form-urlencoded",
      },
      body: "grant_type=client_credentials&scope=otp",
    });
    if (res.ok || res.status === 401) return res.ok;
    throw new DemoError(`api-auth refused a partner token: ${res.status} ${await res.text()}`);
  }

  async #savedKey(orgId: string): Promise<string | undefined> {
    const saved = await readFile(STATE_FILE, "utf8").then(
      (text) => JSON.parse(text) as { orgId?: string; apiKey?: string },
      () => ({}) as { orgId?: string; apiKey?: string },
    );
    return saved.orgId === orgId ? saved.apiKey : undefined;
  }

  async #saveKey(orgId: string, apiKey: string): Promise<void> {
    await mkdir(dirname(STATE_FILE), { recursive: true });
    await writeFile(STATE_FILE, `${JSON.stringify({ orgId, apiKey }, null, 2)}\n`, { mode: 0o600 });
    await chmod(STATE_FILE, 0o600);
  }
}

function credentialsOf(apiKey: string): { clientKey: string; clientSecret: string } {
  const credentials = credentialsOfApiKey(apiKey);
  if (!credentials) throw new DemoError("the API key is not one the dashboard gives");
  return credentials;
}

async function main(): Promise<void> {
  loadDotEnv();
  if (process.env.NODE_ENV !== "development") {
    throw new DemoError(`the demo runs in development only (NODE_ENV is ${process.env.NODE_ENV ?? "not set"})`);
  }
  const config = dashboardConfig.load();
  const apiSettings = apiConfig.load();
  const dashboard = `http://127.0.0.1:${config.DASHBOARD_AUTH_PORT}`;
  const api = `http://127.0.0.1:${apiSettings.API_AUTH_PORT}`;
  // The docs UI sends its requests to the service's public base URL: opened there, "Try it out" is same-origin.
  const docs = { dashboard: `${config.DASHBOARD_AUTH_ISSUER}/docs`, api: `${apiSettings.API_AUTH_ISSUER}/docs` };
  const answering = await Promise.all(
    [dashboard, api].map((url) =>
      fetch(`${url}/health/ready`).then(
        (res) => res.ok,
        () => false,
      ),
    ),
  );
  if (config.infrastructure.kind === "servers") {
    if (answering.includes(false)) throw new DemoError("the services are not ready: start them first (pnpm dev)");
    const db = createDb(config.infrastructure.databaseUrl, { poolSize: 2 });
    try {
      await show(new Demo(db, masterKeyOf(config), dashboard, api), { dashboard, api, docs });
    } finally {
      await db.$disconnect();
    }
    return;
  }
  if (answering.includes(true)) {
    throw new DemoError(
      "the services are running on the embedded database, which one process at a time may open: stop " +
        "pnpm dev, then run pnpm demo again (it runs both services itself and keeps them up)",
    );
  }
  const services = await startEmbedded().catch((error: unknown) => {
    throw error instanceof EmbeddedRefused ? new DemoError(error.message) : error;
  });
  try {
    await show(new Demo(services.db, masterKeyOf(config), dashboard, api), { dashboard, api, docs });
  } catch (error) {
    await services.stop();
    throw error;
  }
  out();
  out("Both services keep running in this process for the lines above; Ctrl-C stops them (pnpm dev runs them too).");
}

async function show(
  demo: Demo,
  { dashboard, api, docs }: { dashboard: string; api: string; docs: { dashboard: string; api: string } },
): Promise<void> {
  out("Making the demo's accounts (a second run reuses them)…");
  const owner = await demo.owner();
  const bank = await demo.bank(owner.token);
  const org = await demo.organization(bank);
  const { clientKey, clientSecret } = credentialsOf(org.apiKey);
  const json = (path: string) => `node -pe 'JSON.parse(require("fs").readFileSync(0, "utf8"))${path}'`;

  out();
  out(`Dashboard: ${docs.dashboard}    api-auth: ${docs.api}    every password: ${PASSWORD}`);
  out("(In the docs, Authorize takes a token once for every route; each route opens ready to try.)");
  out();
  out(`Platform owner  ${OWNER.email}   TOTP secret ${owner.secret}   (POST /v1/auth/login)`);
  out(`Bank admin      ${BANK.email}   TOTP secret ${bank.secret}   (POST /v1/auth/banks/login)`);
  out(`Organization    ${ORG.companyName} (${org.orgId}), Super Admin ${ORG.email}`);
  out(`                TOTP secret ${org.secret}   (POST /v1/auth/login)`);
  out(`API key         ${org.apiKey}`);
  out();
  out("A dashboard session, with a code from an authenticator app that holds the TOTP secret (each code");
  out("works once, and the demo has just used the current one: take the next):");
  out(
    `  curl -s ${dashboard}/v1/auth/login -H 'content-type: application/json' -d '{"email":"${ORG.email}","password":"${PASSWORD}","code":"123456"}'`,
  );
  out();
  out("A partner token (OAuth 2.0 client credentials), then a one-time code by SMS:");
  out(
    `  TOKEN=$(curl -s -u '${clientKey}:${clientSecret}' -d grant_type=client_credentials -d scope=otp ${api}/v1/auth/token | ${json(".access_token")})`,
  );
  out(
    `  REQUEST=$(curl -s ${api}/v1/otp/send -H "authorization: Bearer $TOKEN" -H 'content-type: application/json' -d '{"channel":"sms","destination":"${DEMO_PHONE}"}' | ${json(".requestId")})`,
  );
  out(`The development SMS provider writes the code to api-auth's log ("… to ${DEMO_PHONE}: 123456 is your …").`);
  out("Put it in CODE, then verify: the answer is the person's userId for this organization and a user token.");
  out(
    `  USER_TOKEN=$(curl -s ${api}/v1/otp/verify -H "authorization: Bearer $TOKEN" -H 'content-type: application/json' -d "{\\"requestId\\":\\"$REQUEST\\",\\"code\\":\\"$CODE\\"}" | ${json(".token")})`,
  );
  out("The person reads their own profile from their device:");
  out(`  curl -s ${api}/v1/users/me -H "authorization: Bearer $USER_TOKEN"`);
}

main().catch((error: unknown) => {
  if (!(error instanceof DemoError)) throw error;
  process.stderr.write(`demo: ${error.message}\n`);
  process.exitCode = 1;
});
