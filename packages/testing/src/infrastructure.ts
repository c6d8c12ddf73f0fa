// Test harness shared by both services' test suites: configuration pointing at the run's database,
// a log sink to assert on, a TCP proxy to cut a dependency off and bring it back, and a private
// nats-server that a test may stop and start.
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer, type Server, type Socket, connect as tcpConnect } from "node:net";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { Writable } from "node:stream";
import type {} from "@ipaas/db/testing";
import { NatsLink } from "@ipaas/events";
import { type BaseConfig, loadConfig, serverOptions } from "@ipaas/service-kit";
import Fastify, { type FastifyInstance, type FastifyPluginAsync } from "fastify";
import { inject } from "vitest";
import { type ContainerServer, dockerAnswers, startNatsContainer } from "./containers";

/** The master key every test app and spawned test server shares (the database is shared by the run). */
export const TEST_MASTER_KEY = Buffer.alloc(32, 7).toString("base64");

/** The environment of a test app: the run's database, no migration at start, quiet logs. */
function testEnv(overrides: Record<string, string> = {}): Record<string, string> {
  return {
    NODE_ENV: "test",
    LOG_LEVEL: "silent",
    DATABASE_URL: inject("databaseUrl"),
    NATS_URL: process.env.NATS_URL ?? "nats://127.0.0.1:4222",
    MIGRATE_ON_START: "false",
    MASTER_KEY: TEST_MASTER_KEY,
    ...overrides,
  };
}

/** Configuration for a test app, read by the service's own loader (the base settings when none is given). */
export function testConfig<C extends BaseConfig = BaseConfig>(
  overrides: Record<string, string> = {},
  load: (env: Record<string, string>) => C = loadConfig as (env: Record<string, string>) => C,
): C {
  return load(testEnv(overrides));
}

/** A test app's link to NATS, for the tests that reach JetStream itself. */
export function natsLinkOf(app: FastifyInstance): NatsLink {
  if (!(app.eventLink instanceof NatsLink)) throw new Error("this app's events do not travel over NATS");
  return app.eventLink;
}

/** Collects every log line a test app writes. */
export class LogCapture extends Writable {
  readonly lines: string[] = [];
  override _write(chunk: Buffer, _encoding: string, callback: () => void) {
    this.lines.push(...chunk.toString("utf8").split("\n").filter(Boolean));
    callback();
  }
  get text(): string {
    return this.lines.join("\n");
  }
}

export async function buildTestApp<C extends BaseConfig>(
  service: string,
  plugin: FastifyPluginAsync<{ config: C }>,
  config: C,
  logs?: LogCapture,
): Promise<FastifyInstance> {
  const app = Fastify(serverOptions(config, service, logs));
  await app.register(plugin, { config });
  await app.ready();
  return app;
}

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (address === null || typeof address === "string") throw new Error("no port");
  return address.port;
}

/**
 * Forwards a local port to a target; `stop()` drops every connection, `start()` serves again, and
 * `pause()` holds every byte both ways (and every new connection) until `resume()`, with the connections
 * left open: what a client sees of a server that hangs.
 */
export class TcpProxy {
  #server: Server | undefined;
  readonly #pairs = new Set<[Socket, Socket]>();
  #paused = false;
  constructor(
    readonly port: number,
    private readonly target: { host: string; port: number },
  ) {}

  static async create(target: { host: string; port: number }): Promise<TcpProxy> {
    const proxy = new TcpProxy(await freePort(), target);
    await proxy.start();
    return proxy;
  }

  async start(): Promise<void> {
    this.#server = createServer((client) => {
      const upstream = tcpConnect(this.target.port, this.target.host);
      const pair: [Socket, Socket] = [client, upstream];
      this.#pairs.add(pair);
      for (const s of pair) {
        s.on("close", () => {
          this.#pairs.delete(pair);
          for (const other of pair) other.destroy();
        });
        s.on("error", () => s.destroy());
      }
      if (this.#paused) for (const s of pair) s.pause();
      else forward(pair);
    });
    await new Promise<void>((resolve) => this.#server?.listen(this.port, "127.0.0.1", resolve));
  }

  pause(): void {
    this.#paused = true;
    for (const [client, upstream] of this.#pairs) {
      client.unpipe(upstream);
      upstream.unpipe(client);
      client.pause();
      upstream.pause();
    }
  }

  resume(): void {
    this.#paused = false;
    for (const pair of this.#pairs) forward(pair);
  }

  async stop(): Promise<void> {
    for (const pair of this.#pairs) for (const s of pair) s.destroy();
    await new Promise<void>((resolve) => (this.#server ? this.#server.close(() => resolve()) : resolve()));
    this.#server = undefined;
  }
}

function forward([client, upstream]: [Socket, Socket]): void {
  client.pipe(upstream);
  upstream.pipe(client);
}

/** A nats-server with JetStream of the test's own, on a free port, that the test may stop and restart. */
export class NatsServerProcess {
  #child: ChildProcess | undefined;
  #container: ContainerServer | undefined;
  private constructor(
    readonly port: number,
    private readonly storeDir: string,
  ) {}

  get url(): string {
    return `nats://127.0.0.1:${this.port}`;
  }

  static async create(options: { start?: boolean } = {}): Promise<NatsServerProcess> {
    const server = new NatsServerProcess(await freePort(), await mkdtemp(join(tmpdir(), "nats-")));
    if (options.start ?? true) await server.start();
    return server;
  }

  /** Starts it on its port with its store: the machine's nats-server, else a container when Docker answers. */
  async start(): Promise<void> {
    if (this.#child || this.#container) return;
    const bin = natsServerBinary();
    if (bin) {
      this.#child = spawn(bin, ["-a", "127.0.0.1", "-p", String(this.port), "-js", "-sd", this.storeDir], {
        stdio: "ignore",
      });
    } else if (await dockerAnswers()) {
      this.#container = await startNatsContainer({ hostPort: this.port, storeDir: this.storeDir });
    } else {
      throw new Error(
        "these tests run a NATS server of their own: install nats-server (or NATS_SERVER_BIN), or Docker",
      );
    }
    await waitFor(`nats-server on port ${this.port}`, () => canConnect(this.port), 10_000, 25);
  }

  async stop(): Promise<void> {
    const [child, container] = [this.#child, this.#container];
    this.#child = undefined;
    this.#container = undefined;
    await container?.stop();
    if (!child || child.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      child.once("exit", () => resolve());
      child.kill("SIGKILL");
    });
  }

  async dispose(): Promise<void> {
    await this.stop();
    await rm(this.storeDir, { recursive: true, force: true });
  }
}

/** `NATS_SERVER_BIN`, else nats-server on the PATH or where the distributions install it. */
function natsServerBinary(): string | undefined {
  const candidates = [
    process.env.NATS_SERVER_BIN,
    ...(process.env.PATH ?? "").split(delimiter).map((dir) => dir && join(dir, "nats-server")),
    "/usr/sbin/nats-server",
    "/usr/bin/nats-server",
  ];
  return candidates.find((path): path is string => Boolean(path) && existsSync(path as string));
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = tcpConnect(port, "127.0.0.1");
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

/** Polls `probe` until it returns a value that is not undefined, null or false; fails with `what` on timeout. */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined | null | false> | T | undefined | null | false,
  timeoutMs = 10_000,
  intervalMs = 50,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown = null;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== null && value !== false) return value;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for ${what}${lastError ? `: ${String(lastError)}` : ""}`);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
