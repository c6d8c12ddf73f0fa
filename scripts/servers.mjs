#!/usr/bin/env node
// Makes sure PostgreSQL, NATS (with JetStream) and Redis answer at the addresses this checkout is configured
// with (the environment, else the repository's .env, else the defaults): for the tests (`--for-tests`, run
// by scripts/setup.sh --servers) and for `pnpm dev` on servers. For the tests, when one does not answer and
// a Docker engine does, it is left to the test run, which starts it in a container (testcontainers). Else,
// for each one that does not answer on this machine, it starts a server of the checkout's own on that
// port, from the binaries the machine has; on Debian or Ubuntu, as root, it first installs the
// distribution's packages when a binary is missing. Otherwise it says in one line what to install. It never
// stops or changes a server it did not start, and it says what it chose for each.
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, openSync, readdirSync, readFileSync } from "node:fs";
import { request } from "node:http";
import { connect } from "node:net";
import { delimiter, dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const LOCAL_HOSTS = new Set(["127.0.0.1", "localhost", "::1", "[::1]"]);
const PACKAGES = { postgres: "postgresql", nats: "nats-server", redis: "redis-server" };

function say(line) {
  process.stdout.write(`servers: ${line}\n`);
}

class Refusal extends Error {}

/** The addresses to make answer: the tests' server when one is named, else the services'. */
export function addressesOf(env) {
  const at = (url, port) => {
    const parsed = new URL(url);
    return { host: parsed.hostname, port: Number(parsed.port || port) };
  };
  return {
    postgres: at(env.TEST_DATABASE_SERVER_URL || env.DATABASE_URL || "postgres://127.0.0.1:5432/ipaas", 5432),
    nats: at(env.NATS_URL || "nats://127.0.0.1:4222", 4222),
    redis: at(env.TEST_REDIS_URL || env.REDIS_URL || "redis://127.0.0.1:6379", 6379),
  };
}

/**
 * What to do for the servers that do not answer: nothing, leave them to the test run's containers (for the
 * tests, when Docker answers), start them from the binaries found, install the packages first, or refuse
 * with what to install. `machine` says what the machine has.
 */
export function planFor(missing, machine, { forTests = false } = {}) {
  if (missing.length === 0) return { action: "none" };
  if (forTests && machine.docker) return { action: "containers", servers: missing };
  const remote = missing.find((m) => !LOCAL_HOSTS.has(m.host));
  if (remote) {
    return {
      action: "refuse",
      why: `${remote.name} at ${remote.host}:${remote.port} does not answer, and it is not on this machine`,
    };
  }
  const absent = missing.filter((m) => !machine.binaries[m.name]).map((m) => m.name);
  if (absent.length === 0) return { action: "start", servers: missing };
  if (machine.debian && machine.root && machine.aptGet) {
    return { action: "install-then-start", packages: absent.map((name) => PACKAGES[name]), servers: missing };
  }
  return {
    action: "refuse",
    why: `install ${absent.map((name) => PACKAGES[name]).join(", ")} (or run this as root on Debian or Ubuntu, which installs them), then run it again`,
  };
}

function onPath(name) {
  for (const dir of (process.env.PATH ?? "").split(delimiter)) {
    if (dir && existsSync(join(dir, name))) return join(dir, name);
  }
  return null;
}

/** Where the machine keeps each server's binary: on the PATH, or where Debian's packages put it. */
function findBinaries() {
  const pgBin = () => {
    const initdb = onPath("initdb");
    if (initdb && onPath("pg_ctl")) return dirname(initdb);
    const base = "/usr/lib/postgresql";
    if (!existsSync(base)) return null;
    const versions = readdirSync(base)
      .filter((v) => existsSync(join(base, v, "bin", "initdb")))
      .sort((a, b) => Number(b) - Number(a));
    return versions[0] ? join(base, versions[0], "bin") : null;
  };
  const first = (...paths) => paths.find((p) => p && existsSync(p)) ?? null;
  return {
    postgres: pgBin(),
    nats: first(onPath("nats-server"), "/usr/sbin/nats-server", "/usr/bin/nats-server"),
    redis: first(onPath("redis-server"), "/usr/bin/redis-server"),
  };
}

/** Whether a Docker engine answers `GET /_ping` at DOCKER_HOST or the usual sockets. */
async function dockerAnswers() {
  const host = process.env.DOCKER_HOST ?? "";
  const targets = host.startsWith("tcp://")
    ? [{ host: new URL(host).hostname, port: Number(new URL(host).port || 2375) }]
    : [
        host.startsWith("unix://") ? host.slice("unix://".length) : null,
        "/var/run/docker.sock",
        process.env.XDG_RUNTIME_DIR ? join(process.env.XDG_RUNTIME_DIR, "docker.sock") : null,
      ]
        .filter((path) => path && existsSync(path))
        .map((socketPath) => ({ socketPath }));
  for (const target of targets) {
    const ok = await new Promise((done) => {
      const req = request({ ...target, path: "/_ping", timeout: 1_000 }, (res) => {
        res.resume();
        done(res.statusCode === 200);
      });
      req.on("timeout", () => req.destroy());
      req.on("error", () => done(false));
      req.end();
    });
    if (ok) return true;
  }
  return false;
}

async function describeMachine() {
  const release = existsSync("/etc/os-release") ? readFileSync("/etc/os-release", "utf8") : "";
  return {
    docker: await dockerAnswers(),
    binaries: findBinaries(),
    debian: /^(ID|ID_LIKE)=.*\b(debian|ubuntu)\b/m.test(release),
    root: process.getuid?.() === 0,
    aptGet: onPath("apt-get") !== null || existsSync("/usr/bin/apt-get"),
  };
}

function answers({ host, port }, timeoutMs = 500) {
  return new Promise((done) => {
    const socket = connect({ host: host.replace(/^\[|\]$/g, ""), port });
    const finish = (ok) => {
      socket.destroy();
      done(ok);
    };
    socket.setTimeout(timeoutMs, () => finish(false));
    socket.once("connect", () => finish(true));
    socket.once("error", () => finish(false));
  });
}

async function waitUntilAnswers(server, seconds = 15) {
  for (let i = 0; i < seconds * 5; i++) {
    if (await answers(server)) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Refusal(`${server.name} did not come up on ${server.host}:${server.port} (see ${server.dir})`);
}

/** A folder of the checkout's own for a server's data. Root's servers run as `postgres`, which cannot enter /root. */
function dataDir(name, port, root) {
  const dir = root
    ? join("/var/tmp/ipaas-servers", `${name}-${port}`)
    : join(ROOT, ".data", "servers", `${name}-${port}`);
  mkdirSync(dir, { recursive: true });
  return dir;
}

function run(command, args, options = {}) {
  const result = spawnSync(command, args, { stdio: ["ignore", "pipe", "pipe"], ...options });
  if (result.status !== 0) {
    const why =
      result.error?.message ??
      String(result.stderr || result.stdout)
        .trim()
        .split("\n")
        .pop();
    throw new Refusal(`${command} ${args.join(" ")} failed: ${why}`);
  }
}

/** Postgres refuses to run as root: as root, its cluster belongs to the `postgres` user the package made. */
function asPostgres(root, command, args) {
  if (!root) return run(command, args);
  const runuser = onPath("runuser") ?? ["/usr/sbin/runuser", "/sbin/runuser"].find((p) => existsSync(p)) ?? "runuser";
  return run(runuser, ["-u", "postgres", "--", command, ...args]);
}

function startPostgres(server, bin, root) {
  const dir = dataDir("postgres", server.port, root);
  server.dir = dir;
  if (root) execFileSync("chown", ["-R", "postgres:postgres", dir]);
  if (!existsSync(join(dir, "PG_VERSION"))) {
    asPostgres(root, join(bin, "initdb"), [
      "-D",
      dir,
      "-U",
      "postgres",
      "--auth=trust",
      "-E",
      "UTF8",
      "--no-instructions",
    ]);
  }
  const host = server.host.replace(/^\[|\]$/g, "");
  const options = `-p ${server.port} -k ${dir} -c listen_addresses=${host}`;
  asPostgres(root, join(bin, "pg_ctl"), ["-D", dir, "-l", join(dir, "server.log"), "-o", options, "-w", "start"]);
}

function startNats(server, bin, root) {
  const dir = dataDir("nats", server.port, root);
  server.dir = dir;
  const log = openSync(join(dir, "server.log"), "a");
  const child = spawn(bin, ["-a", server.host.replace(/^\[|\]$/g, ""), "-p", String(server.port), "-js", "-sd", dir], {
    detached: true,
    stdio: ["ignore", log, log],
  });
  child.unref();
}

function startRedis(server, bin, root) {
  const dir = dataDir("redis", server.port, root);
  server.dir = dir;
  const host = server.host.replace(/^\[|\]$/g, "");
  run(
    bin,
    ["--daemonize", "yes", "--bind", host, "--port", String(server.port), "--save", "", "--appendonly", "no"].concat([
      "--dir",
      dir,
      "--logfile",
      join(dir, "server.log"),
    ]),
  );
}

const STARTERS = { postgres: startPostgres, nats: startNats, redis: startRedis };
const LABELS = { postgres: "PostgreSQL", nats: "NATS", redis: "Redis" };

async function main() {
  if (process.env.ENV_FILE !== "none") {
    const file = process.env.ENV_FILE || join(ROOT, ".env");
    if (existsSync(file)) process.loadEnvFile(file);
  }
  const addresses = addressesOf(process.env);
  const missing = [];
  for (const [name, address] of Object.entries(addresses)) {
    const server = { name, ...address };
    if (await answers(server)) say(`${LABELS[name]} answers at ${address.host}:${address.port}`);
    else missing.push(server);
  }
  const forTests = process.argv.includes("--for-tests");
  let machine = await describeMachine();
  const plan = planFor(missing, machine, { forTests });
  if (plan.action === "none") return;
  if (plan.action === "containers") {
    for (const server of plan.servers) {
      say(
        `${LABELS[server.name]} does not answer at ${server.host}:${server.port} and a Docker engine does: the test run starts it in a container`,
      );
    }
    return;
  }
  if (plan.action === "refuse") throw new Refusal(plan.why);
  if (plan.action === "install-then-start") {
    say(`installing ${plan.packages.join(", ")} from the distribution's packages (apt-get)`);
    const install = () =>
      spawnSync("apt-get", ["install", "--yes", "--no-install-recommends", ...plan.packages], {
        stdio: ["ignore", "ignore", "pipe"],
        env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" },
      });
    if (install().status !== 0) {
      run("apt-get", ["update"]);
      if (install().status !== 0) throw new Refusal(`apt-get could not install ${plan.packages.join(", ")}`);
    }
    machine = await describeMachine();
  }
  for (const server of plan.servers) {
    const bin = machine.binaries[server.name];
    if (!bin) throw new Refusal(`no ${PACKAGES[server.name]} binary after installing it`);
    STARTERS[server.name](server, bin, machine.root);
    await waitUntilAnswers(server);
    say(
      `${LABELS[server.name]} was not answering at ${server.host}:${server.port}: started a server of this checkout's own (data in ${server.dir})`,
    );
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((error) => {
    if (!(error instanceof Refusal)) throw error;
    process.stderr.write(`servers: ${error.message}\n`);
    process.exit(1);
  });
}
