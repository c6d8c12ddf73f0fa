// `pnpm bench`: each scenario of docs/benchmarks.md beside its baseline, in the same run, reported as a
// ratio: absolute figures drift on shared machines, and a ratio of two windows taken seconds apart cancels
// much of that drift (not all of it: see docs/benchmarks.md for the spread between runs).
//
//   node --import tsx scripts/bench/run.ts [--duration=5] [--warmup=2] [--wait-quiet=60]
//                                          [--only=token,introspect,introspect-mix,otp-send,otp-verify,otp-timing,
//                                                  verify-token,login,login-timing,storm]
//                                          [--profile] [--bundle] [--service-env="NAME=value …"]
//                                          [--service-node-args="--flag …"]
//
// It creates its own database, starts api-auth, dashboard-auth and the baseline server as child processes
// on free ports against it and the local NATS (and, for the token scenario, oidc-provider as the Node peer
// of the token endpoint), drives them with autocannon from this process, prints a
// table and writes test-results/bench.json. Missing a target is reported, not a failure: the exit code is
// 0 unless the run itself could not be carried out.
import { execFileSync } from "node:child_process";
import { generateKeyPairSync, randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { availableParallelism, cpus, loadavg, totalmem } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type autocannon from "autocannon";
import { createDb, type Db } from "../../packages/db/src/client";
import { createTestDatabase, type TestDatabase } from "../../packages/db/src/testing";
import { createOrganization } from "../../packages/testing/src/factories";
import { createDecoder, createSigner } from "./deps";
import { drive, formPost, jsonPost, type LoadSpec } from "./lib/load";
import {
  type Child,
  cpuMsOf,
  cpuMsOfEach,
  freePort,
  machineBusyShare,
  machineCpuMs,
  memoryOf,
  RssSampler,
  settle,
  startNode,
  waitReady,
} from "./lib/processes";
import { monotonicUs, profilesIn, summarizeProfile, type Window } from "./lib/profile";
import { type BenchReport, type Measured, type MemoryRecord, renderTable } from "./lib/report";
import {
  basicAuth,
  createKnownPersons,
  createLoginUsers,
  createOtpRequests,
  expiredServiceToken,
  introspect,
  type LoginUser,
  OTP_CODE,
  obtainToken,
  PASSWORD,
  revokeToken,
  totp,
  withBadSignature,
} from "./lib/seed";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const SCENARIOS = [
  "token",
  "introspect",
  "introspect-mix",
  "otp-send",
  "otp-verify",
  "otp-timing",
  "verify-token",
  "login",
  "login-timing",
  "storm",
] as const;
type ScenarioId = (typeof SCENARIOS)[number];

// ---------------------------------------------------------------- settings

/** One-time-code requests seeded for the verify scenario: each is verified once. */
const OTP_REQUESTS = 40_000;
/** Rounds of the login-timing scenario: one unknown e-mail and one wrong password each. */
const TIMING_ROUNDS = 41;
/** Rounds of the otp-timing scenario: one send to a new address and one to a known person's each. */
const OTP_TIMING_ROUNDS = 41;

function flag(name: string): string | undefined {
  const prefix = `--${name}=`;
  const arg = process.argv.slice(2).find((a) => a === `--${name}` || a.startsWith(prefix));
  if (arg === undefined) return undefined;
  return arg.startsWith(prefix) ? arg.slice(prefix.length) : "true";
}

function boundedNumber(name: string, fallback: number, min: number, max: number): number {
  const raw = flag(name);
  const value = raw === undefined ? fallback : Number(raw);
  if (!Number.isFinite(value) || value < min || value > max)
    throw new Error(`--${name} must be between ${min} and ${max}`);
  return value;
}

const MEASURE_SECONDS = boundedNumber("duration", 5, 1, 60);
const WARMUP_SECONDS = boundedNumber("warmup", 2, 0, 30);
const CONNECTIONS = 50;
/** Token requests per second sent to api-auth while dashboard-auth is saturated with logins. */
const STORM_TOKEN_RATE = 500;
const STORM_TOKEN_CONNECTIONS = 10;
/** Measured windows per side against the Node peer, alternating A/B/A/B. */
const PEER_ROUNDS = 2;
const PROFILE = flag("profile") === "true";
/** dashboard-auth from its production bundle (services/dashboard-auth/dist/server.mjs, made by `pnpm build`). */
const BUNDLE = flag("bundle") === "true";
/**
 * Extra environment and node flags for the two services only (the baselines keep the defaults), e.g. the
 * allocator settings compared in docs/benchmarks.md: `--service-env="MALLOC_ARENA_MAX=2"`.
 */
const SERVICE_ENV: Record<string, string> = Object.fromEntries(
  (flag("service-env") ?? "")
    .split(" ")
    .filter(Boolean)
    .map((pair) => {
      const at = pair.indexOf("=");
      if (at < 1) throw new Error(`--service-env takes NAME=value pairs, not ${pair}`);
      return [pair.slice(0, at), pair.slice(at + 1)];
    }),
);
const SERVICE_NODE_ARGS = (flag("service-node-args") ?? "").split(" ").filter(Boolean);
const ONLY = new Set<ScenarioId>(
  (flag("only")?.split(",") ?? [...SCENARIOS]).map((s) => {
    if (!(SCENARIOS as readonly string[]).includes(s))
      throw new Error(`unknown scenario ${s}; known: ${SCENARIOS.join(", ")}`);
    return s as ScenarioId;
  }),
);
const NEEDS_DASHBOARD = ["verify-token", "login", "login-timing", "storm"].some((s) => ONLY.has(s as ScenarioId));
/** Dashboard users with TOTP set up: each logs in once, so a TOTP code is never replayed. */
const LOGIN_USERS = 4000;
/** Before starting, wait up to this long for the machine's CPUs to be at most this busy. */
const QUIET_WAIT_SECONDS = boundedNumber("wait-quiet", 60, 0, 300);
const QUIET_BUSY_SHARE = 0.25;
/** Cores used by other processes during a window above which its figures are flagged. */
const NEIGHBOUR_CORES = 0.2;
/** After a window with such a neighbour, wait up to this long for quiet before measuring once more. */
const QUIET_RETRY_SECONDS = 30;
/** The whole run is abandoned past this, whatever it is doing. */
const RUN_DEADLINE_MS = 10 * 60_000;

const RESULTS_DIR = join(ROOT, "test-results");
const REPORT_FILE = join(RESULTS_DIR, "bench.json");
const ROTATION_FILE = join(RESULTS_DIR, "rotation-propagation.json");
const PROFILE_DIR = join(ROOT, ".bench", "profiles");
/** The services serve /metrics only to this token; `heapAtEnd` reads memory figures from there. */
const METRICS_TOKEN = randomBytes(32).toString("base64url");

function progress(message: string): void {
  process.stderr.write(`[bench] ${message}\n`);
}

// ---------------------------------------------------------------- the run

const children: Child[] = [];
let database: TestDatabase | undefined;
let db: Db | undefined;

async function cleanUp(): Promise<void> {
  await Promise.all(children.map((c) => c.stop().catch(() => null)));
  await db?.$disconnect().catch(() => undefined);
  if (database) {
    const name = database.name;
    await database.drop().catch((error: unknown) => progress(`could not drop database ${name}: ${String(error)}`));
    database = undefined;
  }
}

const deadline = setTimeout(() => {
  progress(`run exceeded ${RUN_DEADLINE_MS / 1000} s; stopping`);
  void cleanUp().finally(() => process.exit(1));
}, RUN_DEADLINE_MS);
deadline.unref();
process.once("SIGINT", () => {
  progress("interrupted; stopping the servers and dropping the database");
  void cleanUp().finally(() => process.exit(130));
});

function machine(): Record<string, string | number> {
  const git = (...args: string[]) => {
    try {
      return execFileSync("git", args, { cwd: ROOT, encoding: "utf8" }).trim();
    } catch {
      return "unknown";
    }
  };
  const dirty = git("status", "--porcelain", "--", "services", "packages", "prisma");
  return {
    nproc: availableParallelism(),
    cpu: cpus()[0]?.model ?? "unknown",
    memoryGb: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    loadAverage1m: Math.round((loadavg()[0] ?? 0) * 100) / 100,
    commit: git("rev-parse", "--short", "HEAD"),
    uncommittedServiceFiles: dirty === "" || dirty === "unknown" ? 0 : dirty.split("\n").length,
  };
}

async function main(): Promise<void> {
  const startedAt = new Date();
  const report: BenchReport = {
    version: 1,
    startedAt: startedAt.toISOString(),
    finishedAt: "",
    command: `node --import tsx scripts/bench/run.ts ${process.argv.slice(2).join(" ")}`.trim(),
    machine: machine(),
    settings: {
      connections: CONNECTIONS,
      pipelining: 1,
      warmupSeconds: WARMUP_SECONDS,
      measureSeconds: MEASURE_SECONDS,
      stormTokenRate: STORM_TOKEN_RATE,
      logLevel: "warn",
      profiled: PROFILE,
      dashboardFromBundle: BUNDLE,
      serviceEnv: Object.entries(SERVICE_ENV)
        .map(([name, value]) => `${name}=${value}`)
        .join(" "),
      serviceNodeArgs: SERVICE_NODE_ARGS.join(" "),
    },
    checks: [],
    scenarios: [],
    memory: [],
    argon2Raw: null,
    loginTiming: null,
    otpTiming: null,
    rotationPropagation: { file: relative(ROOT, ROTATION_FILE), missing: true },
    skipped: [],
  };
  const check = (what: string, ok: boolean, detail = "") => {
    report.checks.push({ what, ok, detail });
    if (!ok) throw new Error(`check failed: ${what} ${detail}`);
  };

  // Another process busy on these 2 cores skews everything (the ratios least): wait a little for quiet,
  // then say in the report how busy the machine was.
  let busy = await machineBusyShare(1000);
  for (let waited = 1; busy > QUIET_BUSY_SHARE && waited < QUIET_WAIT_SECONDS; waited++) {
    if (waited === 1)
      progress(`the CPUs are ${(busy * 100).toFixed(0)}% busy; waiting up to ${QUIET_WAIT_SECONDS} s for quiet`);
    busy = await machineBusyShare(1000);
  }
  report.machine.cpuBusyBeforeRun = Math.round(busy * 100) / 100;
  if (busy > QUIET_BUSY_SHARE) progress(`warning: starting with the CPUs ${(busy * 100).toFixed(0)}% busy`);

  // -- database, fixtures
  progress("creating and migrating a fresh database");
  database = await createTestDatabase({ prefix: "ipaas_bench" });
  const client = createDb(database.url, { poolSize: 4 });
  db = client;
  const masterKey = randomBytes(32);
  const organization = await createOrganization(client, { scopes: ["read_bills", "read_packs", "otp"] });
  // The bench sends far more codes than a day's default budget.
  await client.tenant.update({ where: { id: organization.id }, data: { otpSettings: { dailyBudget: 10_000_000 } } });
  const authorization = basicAuth(organization.clientKey, organization.clientSecret);
  let users: LoginUser[] = [];
  if (NEEDS_DASHBOARD) {
    progress(`creating ${LOGIN_USERS} dashboard users with TOTP set up`);
    users = await createLoginUsers(client, masterKey, organization.id, LOGIN_USERS);
  }

  // -- servers
  const [apiPort, dashboardPort, baselinePort, peerPort] = await Promise.all([
    freePort(),
    freePort(),
    freePort(),
    freePort(),
  ]);
  const apiUrl = `http://127.0.0.1:${apiPort}`;
  const dashboardUrl = `http://127.0.0.1:${dashboardPort}`;
  const baselineUrl = `http://127.0.0.1:${baselinePort}`;
  const peerUrl = `http://127.0.0.1:${peerPort}`;
  const audience = "ipaas-partner-api";
  const serviceEnv: Record<string, string> = {
    ENV_FILE: "none",
    NODE_ENV: "test",
    LOG_LEVEL: "warn",
    DATABASE_URL: database.url,
    NATS_URL: process.env.NATS_URL ?? "nats://127.0.0.1:4222",
    MASTER_KEY: masterKey.toString("base64"),
    METRICS_TOKEN,
    MIGRATE_ON_START: "false",
    // The highest value the configuration accepts; api-auth's OAuth limits are raised in api-auth-server.ts.
    AUTH_RATE_LIMIT_PER_MINUTE: "100000",
    // Logins arrive as from many people (one address each), through a proxy on loopback: one address may
    // hold only two places in the password-hashing queue, which would otherwise turn the load into 429s.
    TRUST_PROXY: "127.0.0.1",
    API_AUTH_PORT: String(apiPort),
    DASHBOARD_AUTH_PORT: String(dashboardPort),
    API_AUTH_ISSUER: apiUrl,
    DASHBOARD_AUTH_ISSUER: dashboardUrl,
    API_TOKEN_AUDIENCE: audience,
    ...SERVICE_ENV,
  };
  if (PROFILE) rmSync(PROFILE_DIR, { recursive: true, force: true });
  const nodeArgs = (name: string) => {
    if (!PROFILE) return [];
    const dir = join(PROFILE_DIR, name);
    mkdirSync(dir, { recursive: true });
    return ["--cpu-prof", `--cpu-prof-dir=${dir}`];
  };
  const serviceNodeArgs = (name: string) => [...SERVICE_NODE_ARGS, ...nodeArgs(name)];

  const baselineKeys = generateKeyPairSync("ed25519");
  const baselinePrivatePem = baselineKeys.privateKey.export({ type: "pkcs8", format: "pem" }).toString();
  progress(`starting api-auth, dashboard-auth${ONLY.has("token") ? ", oidc-provider" : ""} and the baseline server`);
  const api = startNode("api-auth", "scripts/bench/api-auth-server.ts", serviceEnv, {
    cwd: ROOT,
    nodeArgs: serviceNodeArgs("api-auth"),
  });
  children.push(api);
  const dashboard = NEEDS_DASHBOARD
    ? startNode(
        "dashboard-auth",
        BUNDLE ? "services/dashboard-auth/dist/server.mjs" : "services/dashboard-auth/src/server.ts",
        serviceEnv,
        { cwd: ROOT, nodeArgs: serviceNodeArgs("dashboard-auth") },
      )
    : null;
  if (dashboard) children.push(dashboard);
  const baseline = startNode(
    "baseline",
    "scripts/bench/baseline-server.ts",
    {
      BENCH_PORT: String(baselinePort),
      BENCH_PRIVATE_KEY_PEM: baselinePrivatePem,
      BENCH_PUBLIC_KEY_PEM: baselineKeys.publicKey.export({ type: "spki", format: "pem" }).toString(),
      BENCH_KID: "key_baseline",
      BENCH_ISSUER: apiUrl,
      BENCH_AUDIENCE: audience,
      BENCH_PASSWORD: PASSWORD,
    },
    { cwd: ROOT },
  );
  children.push(baseline);
  // The Node peer of the token endpoint, with the organization's very credentials and scopes, so both are
  // sent the same Authorization header.
  const peer = ONLY.has("token")
    ? startNode(
        "oidc-provider",
        "scripts/bench/oidc-provider-server.ts",
        {
          BENCH_PORT: String(peerPort),
          BENCH_CLIENT_ID: organization.clientKey,
          BENCH_CLIENT_SECRET: organization.clientSecret,
          BENCH_AUDIENCE: audience,
          BENCH_SCOPE: organization.scopes.join(" "),
        },
        { cwd: ROOT, nodeArgs: nodeArgs("oidc-provider") },
      )
    : null;
  if (peer) children.push(peer);
  await Promise.all([
    waitReady(api, `${apiUrl}/health/ready`),
    dashboard ? waitReady(dashboard, `${dashboardUrl}/health/ready`) : Promise.resolve(),
    waitReady(baseline, `${baselineUrl}/health`),
    peer ? waitReady(peer, `${peerUrl}/.well-known/openid-configuration`) : Promise.resolve(),
  ]);
  // Let start-up garbage settle before reading idle memory.
  await new Promise((r) => setTimeout(r, 2_000));
  const idleRss = new Map<number, number | null>(
    [api, dashboard, peer].flatMap((c) => (c ? [[c.pid, memoryOf(c.pid)?.rssMb ?? null] as const] : [])),
  );

  // -- tokens for introspection, each checked once before any load
  const validToken = await obtainToken(apiUrl, authorization);
  const revokedToken = await obtainToken(apiUrl, authorization);
  await revokeToken(apiUrl, authorization, revokedToken);
  const expiredToken = await expiredServiceToken(client, masterKey, {
    issuer: apiUrl,
    audience,
    organizationId: organization.id,
    clientKey: organization.clientKey,
  });
  const badSignatureToken = withBadSignature(await obtainToken(apiUrl, authorization));
  check("a valid token introspects active", await introspect(apiUrl, authorization, validToken));
  check("a revoked token introspects inactive", !(await introspect(apiUrl, authorization, revokedToken)));
  check("an expired token introspects inactive", !(await introspect(apiUrl, authorization, expiredToken)));
  check("a wrongly signed token introspects inactive", !(await introspect(apiUrl, authorization, badSignatureToken)));

  const baselineSign = createSigner({
    key: baselinePrivatePem,
    algorithm: "EdDSA",
    kid: "key_baseline",
    header: { alg: "EdDSA", typ: "at+jwt" },
  }) as (payload: Record<string, unknown>) => string;
  const now = Math.floor(Date.now() / 1000);
  const baselineClaims = (iat: number) => ({
    client_id: organization.clientKey,
    scope: "read_bills read_packs",
    iss: apiUrl,
    sub: organization.id,
    aud: audience,
    iat,
    exp: iat + 3600,
    jti: randomBytes(16).toString("hex"),
  });
  const baselineValid = baselineSign(baselineClaims(now));
  const baselineValid2 = baselineSign(baselineClaims(now));
  const baselineExpired = baselineSign(baselineClaims(now - 7200));
  const baselineBadSignature = withBadSignature(baselineSign(baselineClaims(now)));
  const verifyAnswer = async (token: string) =>
    ((await (await fetch(`${baselineUrl}/verify`, jsonInit({ token }))).json()) as { active: boolean }).active;
  check("the baseline verifies its valid token", await verifyAnswer(baselineValid));
  check("the baseline refuses its expired token", !(await verifyAnswer(baselineExpired)));
  check("the baseline refuses its wrongly signed token", !(await verifyAnswer(baselineBadSignature)));

  // oidc-provider grants no scope unless asked (api-auth grants all of the organization's): the peer is
  // asked for them by name, so that both tokens say the same.
  const peerTokenBody = new URLSearchParams({
    grant_type: "client_credentials",
    scope: organization.scopes.join(" "),
  }).toString();
  if (peer) {
    const decode = createDecoder({ complete: true }) as unknown as (token: string) => {
      header: Record<string, unknown>;
      payload: Record<string, unknown>;
    };
    const answer = await fetch(`${peerUrl}/token`, {
      method: "POST",
      headers: { authorization, "content-type": "application/x-www-form-urlencoded" },
      body: peerTokenBody,
    });
    const issued = (await answer.json()) as { access_token?: string };
    const theirs = answer.status === 200 && issued.access_token ? decode(issued.access_token) : null;
    const ours = decode(validToken).payload;
    const scopes = (claims: Record<string, unknown>) => String(claims.scope).split(" ").sort().join(" ");
    check(
      "the peer issues an EdDSA at+jwt with api-auth's scopes, audience and lifetime",
      theirs !== null &&
        theirs.header.typ === "at+jwt" &&
        theirs.header.alg === "EdDSA" &&
        scopes(theirs.payload) === scopes(ours) &&
        theirs.payload.aud === ours.aud &&
        Number(theirs.payload.exp) - Number(theirs.payload.iat) === Number(ours.exp) - Number(ours.iat),
      theirs === null ? `${answer.status}` : JSON.stringify({ header: theirs.header, scope: theirs.payload.scope }),
    );
  }

  // -- load
  const sampler = new RssSampler();
  const windows = new Map<string, Window[]>();
  const peakBy = new Map<number, number>();
  const recordWindow = (key: string, window: Window) => windows.set(key, [...(windows.get(key) ?? []), window]);
  /** The Postgres processes that work for this run: our database's backends and the shared background ones. */
  const postgresPids = async (): Promise<number[]> => {
    const rows = await client.$queryRaw<Array<{ pid: number }>>`
      SELECT pid FROM pg_stat_activity WHERE datname = current_database() OR backend_type <> 'client backend'`;
    return rows.map((r) => Number(r.pid));
  };

  interface Side {
    label: string;
    child: Child;
    url: string;
    requests: autocannon.Request[];
    connections?: number;
    overallRate?: number;
  }
  const spec = (side: Side, seconds: number): LoadSpec => ({
    url: side.url,
    requests: side.requests,
    connections: side.connections ?? CONNECTIONS,
    durationSeconds: seconds,
    ...(side.overallRate !== undefined ? { overallRate: side.overallRate } : {}),
  });
  const serverPids = children.map((c) => c.pid);
  const settled = async () => {
    if (!(await settle(serverPids))) progress("the servers were still busy 15 s after a load stopped");
  };
  const warmUp = async (side: Side) => {
    if (WARMUP_SECONDS > 0) await drive(spec(side, WARMUP_SECONDS));
    await settled();
  };
  /** Measures several sides at once (usually one), sampling the RSS of their servers. */
  const measure = async (
    scenario: string,
    sides: Array<{ side: Side; delaySeconds?: number; seconds?: number }>,
  ): Promise<Measured[]> => {
    const pids = [...new Set(sides.map((s) => s.side.child.pid))];
    sampler.start(pids);
    const cpuBefore = new Map(pids.map((pid) => [pid, cpuMsOf(pid)]));
    const mainBefore = new Map(pids.map((pid) => [pid, cpuMsOf(pid, true)]));
    const postgresBefore = cpuMsOfEach(await postgresPids());
    const machineBefore = machineCpuMs();
    const selfBefore = process.cpuUsage();
    const wallBefore = Date.now();
    const results = await Promise.all(
      sides.map(async ({ side, delaySeconds = 0, seconds = MEASURE_SECONDS }) => {
        if (delaySeconds > 0) await new Promise((r) => setTimeout(r, delaySeconds * 1000));
        const startUs = monotonicUs();
        const result = await drive(spec(side, seconds));
        recordWindow(`${scenario} ${side.child.name}`, { startUs, endUs: monotonicUs() });
        return { side, result };
      }),
    );
    const peaks = sampler.stop();
    const wallMs = Date.now() - wallBefore;
    const self = process.cpuUsage(selfBefore);
    const machineBusyMs = machineCpuMs().busy - machineBefore.busy;
    // Backends that started during the window count in full; one that ended keeps what it had before.
    const postgresAfter = cpuMsOfEach(await postgresPids());
    let postgresMs = 0;
    for (const pid of new Set([...postgresBefore.keys(), ...postgresAfter.keys()])) {
      const before = postgresBefore.get(pid) ?? 0;
      postgresMs += Math.max(0, (postgresAfter.get(pid) ?? before) - before);
    }
    const serversMs = pids.reduce((sum, pid) => sum + Math.max(0, (cpuMsOf(pid) ?? 0) - (cpuBefore.get(pid) ?? 0)), 0);
    const selfMs = (self.user + self.system) / 1000;
    const otherCores = Math.max(0, (machineBusyMs - serversMs - postgresMs - selfMs) / wallMs);
    for (const [pid, peak] of peaks) peakBy.set(pid, Math.max(peakBy.get(pid) ?? 0, peak));
    const measured = results.map(({ side, result }) => {
      const before = cpuBefore.get(side.child.pid);
      const after = cpuMsOf(side.child.pid);
      const serverMs = before === null || before === undefined || after === null ? null : after - before;
      const mainBeforeMs = mainBefore.get(side.child.pid);
      const mainAfterMs = cpuMsOf(side.child.pid, true);
      const mainMs =
        mainBeforeMs === null || mainBeforeMs === undefined || mainAfterMs === null ? null : mainAfterMs - mainBeforeMs;
      const answers = result.ok + result.non2xx;
      return {
        ...result,
        label: side.label,
        connections: side.connections ?? CONNECTIONS,
        ...(side.overallRate !== undefined ? { overallRate: side.overallRate } : {}),
        peakRssMb: peaks.get(side.child.pid) ?? null,
        // With several loads on one process the split per load is unknown: the process total is shown.
        serverCpuMsPerRequest:
          serverMs === null || answers === 0 || pids.length < sides.length ? null : serverMs / answers,
        serverCores: serverMs === null ? null : serverMs / wallMs,
        mainThreadCpuMsPerRequest:
          mainMs === null || answers === 0 || pids.length < sides.length ? null : mainMs / answers,
        mainThreadCores: mainMs === null ? null : mainMs / wallMs,
        postgresCpuMsPerRequest: sides.length > 1 || answers === 0 ? null : postgresMs / answers,
        postgresCores: postgresMs / wallMs,
        loadGeneratorCores: selfMs / wallMs,
        otherCores,
      };
    });
    await settled();
    return measured;
  };
  const first = (measured: Measured[]): Measured => {
    const m = measured[0];
    if (!m) throw new Error("nothing was measured");
    return m;
  };
  const isSuspect = (measured: Measured[]) => measured.some((m) => m.otherCores > NEIGHBOUR_CORES);
  const remeasured = new Set<string>();
  const interference = (id: string, measured: Measured[]) => [
    ...(remeasured.has(id) ? ["measured a second time: another process competed for the CPUs the first time"] : []),
    ...measured
      .filter((m) => m.otherCores > NEIGHBOUR_CORES)
      .map((m) => `other processes used ${m.otherCores.toFixed(2)} cores during "${m.label}": figures suspect`),
  ];
  /** Runs `measurement`, and once more after waiting for quiet if another process competed for the CPUs. */
  const attempts = async <T extends Measured[]>(id: string, measurement: () => Promise<T>): Promise<T> => {
    const result = await measurement();
    if (!isSuspect(result)) return result;
    progress(`${id}: another process competed for the CPUs; measuring again once the machine is quiet`);
    for (let waited = 0; waited < QUIET_RETRY_SECONDS; waited++) {
      if ((await machineBusyShare(1000)) <= QUIET_BUSY_SHARE) break;
    }
    remeasured.add(id);
    const again = await measurement();
    const others = (ms: Measured[]) => ms.reduce((sum, m) => sum + m.otherCores, 0);
    return others(again) <= others(result) ? again : result;
  };

  const compare = async (
    id: ScenarioId,
    title: string,
    base: Side,
    service: Side,
    minRatio: number,
    notes: string[] = [],
  ): Promise<void> => {
    progress(`${id}: warming up, then ${MEASURE_SECONDS} s on the baseline and ${MEASURE_SECONDS} s on the service`);
    const [b, s] = await attempts(id, async () => {
      await warmUp(base);
      await warmUp(service);
      return [first(await measure(id, [{ side: base }])), first(await measure(id, [{ side: service }]))];
    });
    const ratio = b.okPerSecond > 0 ? s.okPerSecond / b.okPerSecond : null;
    report.scenarios.push({
      id,
      title,
      baseline: b,
      service: s,
      ratio,
      target: `>= ${minRatio * 100}% of baseline`,
      met: ratio === null ? false : ratio >= minRatio && s.non2xx === 0 && s.errors === 0,
      suspect: isSuspect([b, s]),
      notes: [...notes, ...interference(id, [b, s])],
    });
  };
  /**
   * The service against a peer product doing the same job: A/B/A/B windows, so that drift over the run falls
   * on both sides alike, each side reported pooled over its windows. The ratio is service ÷ peer.
   */
  const alternate = async (
    id: string,
    title: string,
    peerSide: Side,
    service: Side,
    minRatio: number,
    notes: string[] = [],
  ): Promise<void> => {
    progress(
      `${id}: warming up, then ${PEER_ROUNDS} rounds of ${MEASURE_SECONDS} s on the service and ${MEASURE_SECONDS} s on the peer`,
    );
    const windows = await attempts(id, async () => {
      await warmUp(service);
      await warmUp(peerSide);
      const measured: Measured[] = [];
      for (let round = 1; round <= PEER_ROUNDS; round++) {
        for (const side of [service, peerSide]) {
          measured.push({ ...first(await measure(id, [{ side }])), label: `${side.label}, round ${round}` });
        }
      }
      return measured;
    });
    const ours = windows.filter((_, i) => i % 2 === 0);
    const theirs = windows.filter((_, i) => i % 2 === 1);
    const s = { ...pooled(ours), label: service.label };
    const p = { ...pooled(theirs), label: peerSide.label };
    const ratio = p.okPerSecond > 0 ? s.okPerSecond / p.okPerSecond : null;
    const perRound = ours.map((m, i) => {
      const peerRate = theirs[i]?.okPerSecond ?? 0;
      return `${m.okPerSecond.toFixed(0)} ÷ ${peerRate.toFixed(0)} = ${peerRate > 0 ? (m.okPerSecond / peerRate).toFixed(2) : "-"}×`;
    });
    // Every window is kept in bench.json beside the pooled figures.
    const record: BenchReport["scenarios"][number] & { windows: Measured[] } = {
      id,
      title,
      baseline: p,
      service: s,
      ratio,
      target: `>= ${minRatio * 100}% of the peer (${minRatio}×)`,
      met: ratio !== null && ratio >= minRatio && windows.every((m) => m.non2xx === 0 && m.errors === 0),
      suspect: isSuspect(windows),
      notes: [
        `${s.label} ÷ ${p.label}: ${ratio === null ? "-" : ratio.toFixed(2)}× (2xx/s pooled over ${PEER_ROUNDS} windows each; by round ${perRound.join(", ")})`,
        ...notes,
        ...interference(id, windows),
      ],
      windows,
    };
    report.scenarios.push(record);
  };

  const tokenRequest = formPost("/v1/auth/token", "grant_type=client_credentials", { authorization });
  const signRequest = jsonPost("/sign", { client_id: organization.clientKey, sub: organization.id });
  const introspectRequest = (token: string) =>
    formPost("/v1/auth/introspect", new URLSearchParams({ token }).toString(), { authorization });
  const verifyRequest = (token: string) => jsonPost("/verify", { token });
  const apiSide = (label: string, requests: autocannon.Request[]): Side => ({
    label,
    child: api,
    url: apiUrl,
    requests,
  });
  const baseSide = (label: string, requests: autocannon.Request[]): Side => ({
    label,
    child: baseline,
    url: baselineUrl,
    requests,
  });

  if (ONLY.has("token")) {
    await compare(
      "token",
      "1. client_credentials token, warm cache (HTTP Basic, form body)",
      baseSide("bare EdDSA sign route", [signRequest]),
      apiSide("POST /v1/auth/token", [tokenRequest]),
      0.6,
    );
    if (peer) {
      await alternate(
        "token-peer",
        "1b. client_credentials token beside the Node peer, oidc-provider 9 (same client, Basic, form body)",
        {
          label: "oidc-provider POST /token",
          child: peer,
          url: peerUrl,
          requests: [formPost("/token", peerTokenBody, { authorization })],
        },
        apiSide("POST /v1/auth/token", [tokenRequest]),
        1.5,
        ["the peer is asked by name for the scopes api-auth grants by default: same scopes, audience and lifetime"],
      );
    }
  }
  if (ONLY.has("introspect")) {
    await compare(
      "introspect",
      "2. introspection of a valid token (client-authenticated)",
      baseSide("bare EdDSA verify route", [verifyRequest(baselineValid)]),
      apiSide("POST /v1/auth/introspect", [introspectRequest(validToken)]),
      0.5,
    );
  }
  if (ONLY.has("otp-send")) {
    let sends = 0;
    const sendRequest: autocannon.Request = {
      method: "POST",
      path: "/v1/otp/send",
      headers: { "content-type": "application/json", authorization: `Bearer ${validToken}` },
      setupRequest: (request) => {
        sends += 1;
        const destination = `bench.send.${sends}.${process.pid}@example.test`;
        return { ...request, body: JSON.stringify({ channel: "email", destination }) };
      },
    };
    await compare(
      "otp-send",
      "3a. one-time code send by email (partner token; each request a new address)",
      baseSide("bare EdDSA sign route", [signRequest]),
      apiSide("POST /v1/otp/send", [sendRequest]),
      0.25,
      [
        "each send checks the limits, writes the challenge and its outbox row in one transaction; the " +
          "delivery (the development sender, to the log) runs in the same process during the window",
      ],
    );
  }
  if (ONLY.has("otp-verify")) {
    progress(`otp-verify: seeding ${OTP_REQUESTS} one-time-code requests`);
    const requestIds = await createOtpRequests(client, masterKey, organization.id, OTP_REQUESTS);
    let next = 0;
    const verifyOtpRequest: autocannon.Request = {
      method: "POST",
      path: "/v1/otp/verify",
      headers: { "content-type": "application/json", authorization: `Bearer ${validToken}` },
      setupRequest: (request) => {
        const requestId = requestIds[next % requestIds.length];
        next += 1;
        return { ...request, body: JSON.stringify({ requestId, code: OTP_CODE }) };
      },
    };
    await compare(
      "otp-verify",
      "3b. one-time code verify, a person's first sign-in (creates the person and the pairwise userId; signs a user token)",
      baseSide("bare EdDSA sign route", [signRequest]),
      apiSide("POST /v1/otp/verify", [verifyOtpRequest]),
      0.25,
      ["each request verifies a different request once; a request verified twice would answer 400"],
    );
    const record = report.scenarios.at(-1);
    if (record?.id === "otp-verify") {
      record.target = ">= 1,500 verifies/s";
      record.met = record.service.okPerSecond >= 1500 && record.service.non2xx === 0 && record.service.errors === 0;
    }
  }
  if (ONLY.has("otp-timing")) {
    progress(`otp-timing: creating ${OTP_TIMING_ROUNDS} end users, each by a first sign-in`);
    const known = await createKnownPersons(client, masterKey, organization.id, apiUrl, validToken, OTP_TIMING_ROUNDS);
    progress(
      `otp-timing: ${OTP_TIMING_ROUNDS} sends to new addresses and ${OTP_TIMING_ROUNDS} to known persons, interleaved`,
    );
    report.otpTiming = await otpTiming(apiUrl, validToken, known);
  }
  if (ONLY.has("introspect-mix")) {
    await compare(
      "introspect-mix",
      "2b. introspection, mix: valid / expired / bad signature / revoked",
      baseSide("bare verify: valid/expired/bad sig/valid", [
        verifyRequest(baselineValid),
        verifyRequest(baselineExpired),
        verifyRequest(baselineBadSignature),
        verifyRequest(baselineValid2),
      ]),
      apiSide("POST /v1/auth/introspect (mix)", [
        introspectRequest(validToken),
        introspectRequest(expiredToken),
        introspectRequest(badSignatureToken),
        introspectRequest(revokedToken),
      ]),
      0.5,
      ["the baseline has no revocation list: its 4th token is a second valid one"],
    );
  }

  if (dashboard) {
    // Each login takes the next user, with a TOTP code computed as it is sent: a code is never replayed.
    let nextUser = 0;
    const nextLogin = () => {
      const index = nextUser % users.length;
      const user = users[index];
      nextUser += 1;
      if (!user) throw new Error("no login users");
      return {
        body: JSON.stringify({ email: user.email, password: PASSWORD, code: totp(user.secret) }),
        address: `10.${(index >> 8) & 255}.${index & 255}.1`,
      };
    };
    const nextLoginBody = () => nextLogin().body;
    const loginRequest: autocannon.Request = {
      method: "POST",
      path: "/v1/auth/login",
      headers: { "content-type": "application/json" },
      setupRequest: (request) => {
        const { body, address } = nextLogin();
        return { ...request, body, headers: { ...request.headers, "x-forwarded-for": address } };
      },
    };
    const loginSide: Side = {
      label: "POST /v1/auth/login (TOTP)",
      child: dashboard,
      url: dashboardUrl,
      requests: [loginRequest],
    };
    const firstLogin = await fetch(`${dashboardUrl}/v1/auth/login`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: nextLoginBody(),
    });
    const firstBody = (await firstLogin.json()) as { token?: string; code?: string };
    check(
      "a dashboard user logs in with password and TOTP",
      firstLogin.status === 200 && typeof firstBody.token === "string",
      // The status and the error code only: a successful answer holds tokens, which no report keeps.
      `${firstLogin.status} ${typeof firstBody.code === "string" ? firstBody.code : ""}`.trim(),
    );

    if (ONLY.has("verify-token")) {
      const verifyTokenRequest: autocannon.Request = {
        method: "POST",
        path: "/v1/auth/verify-token",
        headers: { authorization: `Bearer ${firstBody.token}` },
      };
      const answer = await fetch(`${dashboardUrl}/v1/auth/verify-token`, {
        method: "POST",
        headers: { authorization: `Bearer ${firstBody.token}` },
      });
      check("dashboard-auth accepts its fresh access token at verify-token", answer.status === 200, `${answer.status}`);
      await compare(
        "verify-token",
        "2c. dashboard verify-token of a valid access token (Bearer)",
        baseSide("bare EdDSA verify route", [verifyRequest(baselineValid)]),
        { label: "POST /v1/auth/verify-token", child: dashboard, url: dashboardUrl, requests: [verifyTokenRequest] },
        0.5,
        ["verify-token also checks the session and the user's and tenant's current state in the database"],
      );
    }

    if (ONLY.has("login")) {
      await compare(
        "login",
        "4. dashboard password login with TOTP (argon2id m=19 MiB t=2 p=1)",
        baseSide("bare argon2id verify route", [jsonPost("/argon2", { password: PASSWORD })]),
        loginSide,
        0.85,
        ["each login uses a different user, so no TOTP code is replayed"],
      );
      progress(`login: raw argon2id throughput in one process, ${MEASURE_SECONDS} s`);
      const raw = startNode(
        "argon2-raw",
        "scripts/bench/argon2-raw.ts",
        { BENCH_DURATION_MS: String(MEASURE_SECONDS * 1000), BENCH_CONCURRENCY: String(CONNECTIONS) },
        { cwd: ROOT },
      );
      children.push(raw);
      const code = await raw.exited;
      const line = raw
        .tail()
        .split("\n")
        .find((l) => l.startsWith("{"));
      if (code === 0 && line) report.argon2Raw = JSON.parse(line) as BenchReport["argon2Raw"];
      else progress(`raw argon2 measurement failed (${code}): ${raw.tail()}`);
    }
    if (ONLY.has("login-timing")) {
      progress(`login-timing: ${TIMING_ROUNDS} unknown e-mails and ${TIMING_ROUNDS} wrong passwords, interleaved`);
      // The users from the end of the list: the login scenario starts from the front.
      report.loginTiming = await loginTiming(
        dashboardUrl,
        users.slice(-TIMING_ROUNDS).map((u) => u.email),
      );
    }
    if (ONLY.has("storm")) {
      progress(`storm: token requests at ${STORM_TOKEN_RATE}/s alone, then during a login storm`);
      const tokenAtRate: Side = {
        ...apiSide("POST /v1/auth/token", [tokenRequest]),
        connections: STORM_TOKEN_CONNECTIONS,
        overallRate: STORM_TOKEN_RATE,
      };
      const [alone, logins, during] = await attempts("storm", async () => {
        await warmUp(tokenAtRate);
        const tokenAlone = first(await measure("storm-alone", [{ side: tokenAtRate }]));
        // The logins start first and end last, so the token window lies entirely inside the storm.
        const [storm, tokenDuring] = await measure("storm", [
          { side: loginSide, seconds: MEASURE_SECONDS + 2 },
          { side: tokenAtRate, delaySeconds: 1 },
        ]);
        if (!storm || !tokenDuring) throw new Error("the storm was not measured");
        return [
          { ...tokenAlone, label: "token alone" },
          { ...storm, label: "logins (50 connections)" },
          { ...tokenDuring, label: "token during the login storm" },
        ];
      });
      const p99 = during.latencyMs.p99;
      report.scenarios.push({
        id: "storm",
        title: `4b. token p99 at ${STORM_TOKEN_RATE} req/s while logins saturate the CPU`,
        baseline: alone,
        service: during,
        ratio: null,
        target: "token p99 < 50 ms during the storm",
        met: p99 < 50 && during.non2xx === 0 && during.errors === 0,
        suspect: isSuspect([alone, during]),
        concurrent: [logins],
        notes: [
          `token p99 alone ${alone.latencyMs.p99.toFixed(1)} ms -> during the storm ${p99.toFixed(1)} ms`,
          ...interference("storm", [alone, during]),
        ],
      });
    }
  } else {
    report.skipped.push({
      scenario: "2c and 4 (verify-token, login, login-timing, storm)",
      why: "not selected with --only",
    });
  }

  // -- memory, then stop everything (profiles are written when a process exits)
  const services = [{ child: api, url: apiUrl }, ...(dashboard ? [{ child: dashboard, url: dashboardUrl }] : [])];
  report.memory = await Promise.all(
    services.map(async ({ child, url }): Promise<MemoryRecord> => {
      const idle = idleRss.get(child.pid) ?? null;
      const hwm = memoryOf(child.pid)?.hwmMb ?? null;
      return {
        service: child.name,
        idleRssMb: idle,
        peakRssMb: peakBy.get(child.pid) ?? null,
        hwmMb: hwm,
        met: idle === null || hwm === null ? null : idle < 150 && hwm < 300,
        atEnd: await heapAtEnd(url),
      };
    }),
  );
  if (peer) {
    // For comparison only: the memory targets are ours, and the peer has no metrics endpoint.
    report.memory.push({
      service: peer.name,
      idleRssMb: idleRss.get(peer.pid) ?? null,
      peakRssMb: peakBy.get(peer.pid) ?? null,
      hwmMb: memoryOf(peer.pid)?.hwmMb ?? null,
      met: null,
      atEnd: null,
    });
  }
  progress("stopping the servers");
  await Promise.all(children.map((c) => c.stop()));

  if (PROFILE) {
    report.profiles = {};
    for (const [key, ws] of windows) {
      const service = key.split(" ")[1] ?? "";
      // tsx's module hooks run on a worker thread that writes a profile of its own: keep the busiest one.
      const summaries = profilesIn(join(PROFILE_DIR, service)).map((file) => summarizeProfile(file, ws));
      const busiest = summaries.sort((a, b) => b.samples * (1 - b.idleShare) - a.samples * (1 - a.idleShare))[0];
      if (busiest) report.profiles[key] = busiest;
    }
  }

  if (existsSync(ROTATION_FILE)) {
    try {
      report.rotationPropagation = {
        file: relative(ROOT, ROTATION_FILE),
        figures: JSON.parse(readFileSync(ROTATION_FILE, "utf8")) as unknown,
      };
    } catch (error) {
      progress(`could not read ${ROTATION_FILE}: ${String(error)}`);
    }
  }

  report.finishedAt = new Date().toISOString();
  mkdirSync(RESULTS_DIR, { recursive: true });
  writeFileSync(REPORT_FILE, `${JSON.stringify(report, null, 2)}\n`);
  process.stdout.write(
    `\nmachine: ${report.machine.nproc} CPUs (${report.machine.cpu}), node ${report.machine.node}, commit ${report.machine.commit}` +
      `${Number(report.machine.uncommittedServiceFiles) > 0 ? ` + ${report.machine.uncommittedServiceFiles} uncommitted files under services/packages/prisma` : ""}\n` +
      `CPUs ${(Number(report.machine.cpuBusyBeforeRun) * 100).toFixed(0)}% busy before the run; ` +
      `${CONNECTIONS} connections, no pipelining, ${WARMUP_SECONDS} s warm-up, ${MEASURE_SECONDS} s measured per side\n\n` +
      `${renderTable(report)}\n\nwritten to ${relative(ROOT, REPORT_FILE)}\n`,
  );
}

/**
 * What the service's own Prometheus metrics say about its memory at the end of the run (prom-client's
 * default process metrics), so RSS can be split into the JavaScript heap and the rest.
 */
async function heapAtEnd(url: string): Promise<MemoryRecord["atEnd"]> {
  try {
    const response = await fetch(`${url}/metrics`, {
      headers: { authorization: `Bearer ${METRICS_TOKEN}` },
      signal: AbortSignal.timeout(5_000),
    });
    const text = await response.text();
    const metric = (name: string) => {
      const match = new RegExp(`^${name}(?:\\{[^}]*\\})? ([0-9.e+]+)$`, "m").exec(text);
      return match?.[1] === undefined ? null : Number(match[1]) / 2 ** 20;
    };
    return {
      rssMb: metric("process_resident_memory_bytes"),
      heapTotalMb: metric("nodejs_heap_size_total_bytes"),
      heapUsedMb: metric("nodejs_heap_size_used_bytes"),
      externalMb: metric("nodejs_external_memory_bytes"),
    };
  } catch {
    return null;
  }
}

/**
 * Several windows of one side as one: counts and CPU over the whole time, latency percentiles averaged (the
 * windows are equally long), and the worst peak RSS, maximum latency and neighbour activity.
 */
function pooled(windows: Measured[]): Measured {
  const head = windows[0];
  if (!head) throw new Error("nothing to pool");
  const sum = (value: (m: Measured) => number) => windows.reduce((total, m) => total + value(m), 0);
  const mean = (value: (m: Measured) => number) => sum(value) / windows.length;
  const worst = (value: (m: Measured) => number | null) => {
    const known = windows.flatMap((m) => value(m) ?? []);
    return known.length === 0 ? null : Math.max(...known);
  };
  const answers = (m: Measured) => m.ok + m.non2xx;
  const allAnswers = sum(answers);
  /** A per-request figure weighted by each window's answers; null when a window lacks it. */
  const perRequest = (value: (m: Measured) => number | null) =>
    windows.some((m) => value(m) === null) || allAnswers === 0
      ? null
      : sum((m) => (value(m) ?? 0) * answers(m)) / allAnswers;
  const meanOrNull = (value: (m: Measured) => number | null) =>
    windows.some((m) => value(m) === null) ? null : mean((m) => value(m) ?? 0);
  const seconds = sum((m) => m.durationSeconds);
  const statusCodes: Record<string, number> = {};
  for (const m of windows) {
    for (const [code, count] of Object.entries(m.statusCodes)) statusCodes[code] = (statusCodes[code] ?? 0) + count;
  }
  return {
    ...head,
    durationSeconds: seconds,
    okPerSecond: sum((m) => m.ok) / seconds,
    answersPerSecond: sum((m) => m.answersPerSecond * m.durationSeconds) / seconds,
    ok: sum((m) => m.ok),
    non2xx: sum((m) => m.non2xx),
    errors: sum((m) => m.errors),
    timeouts: sum((m) => m.timeouts),
    statusCodes,
    latencyMs: {
      p50: mean((m) => m.latencyMs.p50),
      p90: mean((m) => m.latencyMs.p90),
      p99: mean((m) => m.latencyMs.p99),
      max: Math.max(...windows.map((m) => m.latencyMs.max)),
      mean: mean((m) => m.latencyMs.mean),
    },
    peakRssMb: worst((m) => m.peakRssMb),
    serverCpuMsPerRequest: perRequest((m) => m.serverCpuMsPerRequest),
    serverCores: meanOrNull((m) => m.serverCores),
    mainThreadCpuMsPerRequest: perRequest((m) => m.mainThreadCpuMsPerRequest),
    mainThreadCores: meanOrNull((m) => m.mainThreadCores),
    postgresCpuMsPerRequest: perRequest((m) => m.postgresCpuMsPerRequest),
    postgresCores: mean((m) => m.postgresCores),
    loadGeneratorCores: mean((m) => m.loadGeneratorCores),
    otherCores: Math.max(...windows.map((m) => m.otherCores)),
  };
}

function jsonInit(body: unknown): RequestInit {
  return { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) };
}

try {
  await main();
  await cleanUp();
  process.exit(0);
} catch (error) {
  progress(`the benchmark could not run: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  await cleanUp();
  process.exit(1);
}

/** The middle of the samples (the upper one of the two middles for an even count). */
function median(xs: number[]): number {
  return [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
}

/**
 * How long a refused login takes for an e-mail nobody has and for a known one with a wrong password: the
 * two must not be told apart by their timing (both pay one argon2id verification). Sequential and
 * interleaved, so load from elsewhere falls on both sides alike; each round is one user's first wrong
 * password, from its own address (through the trusted proxy), so no attempt gate answers instead.
 */
async function loginTiming(url: string, knownEmails: string[]): Promise<NonNullable<BenchReport["loginTiming"]>> {
  const time = async (email: string, address: string) => {
    const started = performance.now();
    const res = await fetch(`${url}/v1/auth/login`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-forwarded-for": address },
      body: JSON.stringify({ email, password: "wrong horse battery staple" }),
    });
    await res.arrayBuffer();
    if (res.status !== 401) throw new Error(`login-timing: expected 401, got ${res.status}`);
    return performance.now() - started;
  };
  const unknown: number[] = [];
  const wrong: number[] = [];
  for (let i = 0; i < TIMING_ROUNDS; i++) {
    const address = `10.250.${i}.1`;
    unknown.push(await time(`nobody.${i}.${randomBytes(4).toString("hex")}@example.test`, address));
    wrong.push(await time(knownEmails[i] ?? "", address));
  }
  const unknownMedianMs = median(unknown);
  const wrongMedianMs = median(wrong);
  const ratio = wrongMedianMs / unknownMedianMs;
  return { rounds: TIMING_ROUNDS, unknownMedianMs, wrongMedianMs, ratio, met: ratio > 0.8 && ratio < 1.25 };
}

/**
 * How long a code send by email takes to an address never seen and to the address of a person who already
 * has an account at the organization: the two must not be told apart, by the answer or by its time.
 * Sequential and interleaved, the side that goes first alternating by round, so load from elsewhere and the
 * previous send's delivery fall on both sides alike. No `endUserIp` is sent (the per-address cap would
 * count every send), and each address gets one code (no per-destination wait applies).
 */
async function otpTiming(
  url: string,
  bearer: string,
  knownEmails: string[],
): Promise<NonNullable<BenchReport["otpTiming"]>> {
  let shape: string | undefined;
  const time = async (destination: string) => {
    const started = performance.now();
    const res = await fetch(`${url}/v1/otp/send`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${bearer}` },
      body: JSON.stringify({ channel: "email", destination }),
    });
    const body = (await res.json()) as Record<string, unknown>;
    const elapsed = performance.now() - started;
    if (res.status !== 202) throw new Error(`otp-timing: expected 202, got ${res.status} ${JSON.stringify(body)}`);
    // Every answer the same but for the request id's characters: its prefix and length must match too.
    const { requestId, ...rest } = body;
    const id = typeof requestId === "string" ? requestId.replace(/(?<=_.*)[0-9a-z]/gi, "x") : requestId;
    const seen = JSON.stringify({ requestId: id, ...rest });
    shape ??= seen;
    if (seen !== shape) throw new Error(`otp-timing: answers differ: ${shape} and ${seen}`);
    return elapsed;
  };
  const unknown: number[] = [];
  const known: number[] = [];
  for (let i = 0; i < OTP_TIMING_ROUNDS; i++) {
    const fresh = `nobody.${i}.${randomBytes(4).toString("hex")}@example.test`;
    const person = knownEmails[i] ?? "";
    if (i % 2 === 0) {
      unknown.push(await time(fresh));
      known.push(await time(person));
    } else {
      known.push(await time(person));
      unknown.push(await time(fresh));
    }
  }
  const unknownMedianMs = median(unknown);
  const knownMedianMs = median(known);
  const ratio = knownMedianMs / unknownMedianMs;
  return { rounds: OTP_TIMING_ROUNDS, unknownMedianMs, knownMedianMs, ratio, met: ratio > 0.8 && ratio < 1.25 };
}
