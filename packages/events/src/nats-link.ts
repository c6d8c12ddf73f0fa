import { type JetStreamClient, type JetStreamManager, jetstream, jetstreamManager } from "@nats-io/jetstream";
import { connect, type NatsConnection, type NodeConnectionOptions, type Subscription } from "@nats-io/transport-node";
import { backoffMs, describeError, type EventsLogger, type Sleep, silentLogger, sleep } from "./logger";
import {
  describeNatsPublishError,
  openNatsConsumer,
  publishTo,
  refusedByNats,
  subscribeToGiveUps,
} from "./nats-jetstream";
import { type EnsureStreamOptions, ensureStream } from "./stream";
import type { ConsumerSpec, EventLink, GiveUp, LinkStatus, OpenedConsumer } from "./transport";

export interface NatsLinkOptions {
  /** One URL or several, e.g. "nats://127.0.0.1:4222". */
  servers: string | string[];
  /** Client name shown by the server (service name and instance). */
  name?: string;
  logger?: EventsLogger;
  /** How long one connection attempt may take. Default 2 000 ms. */
  connectTimeoutMs?: number;
  /** Backoff between failed first-connect attempts: from this… Default 250 ms. */
  retryMinMs?: number;
  /** …up to this. Default 10 000 ms. */
  retryMaxMs?: number;
  /** Once connected, the client's own reconnect waits this long between attempts. Default 1 000 ms. */
  reconnectTimeWaitMs?: number;
  /** Timeout of JetStream API requests and publish acks. Default 5 000 ms. */
  requestTimeoutMs?: number;
  /** How long close() lets the connection drain before closing it. Default 5 000 ms. */
  drainTimeoutMs?: number;
  /** Authentication, TLS and the like; the reconnect settings are the link's own. */
  connectionOptions?: Omit<
    NodeConnectionOptions,
    "servers" | "name" | "timeout" | "reconnect" | "maxReconnectAttempts" | "reconnectTimeWait" | "waitOnFirstConnect"
  >;
}

export type { LinkStatus } from "./transport";

/** Run after every connect and reconnect (e.g. to ensure streams). Retried with backoff while it throws. */
export type OnConnectHook = (link: NatsLink) => Promise<void> | void;

export class NatsNotConnectedError extends Error {
  override name = "NatsNotConnectedError";
}

interface GiveUpWatch {
  stream: string;
  onGiveUp: (giveUp: GiveUp) => void;
  /** Its subscriptions on the current connection. */
  subscriptions: Subscription[];
}

type State =
  | { kind: "idle" }
  | { kind: "connecting"; attempts: number; lastError: string | null }
  | { kind: "connected"; server: string }
  | { kind: "reconnecting"; server: string; since: Date }
  | { kind: "closed" };

function withScheme(server: string): string {
  return /^[a-z]+:\/\//.test(server) ? server : `nats://${server}`;
}

/** The most useful reason in an error chain: a socket code (ECONNREFUSED…) when there is one. */
function connectFailureReason(err: unknown): string {
  let current: unknown = err;
  for (let depth = 0; depth < 5 && current instanceof Error; depth++) {
    const code = (current as Error & { code?: unknown }).code;
    if (typeof code === "string" && /^E[A-Z]+$/.test(code)) return code;
    current = current.cause;
  }
  return err instanceof Error ? err.message : String(err);
}

/**
 * The one NATS connection of a service. `start()` returns at once and connects in the background,
 * retrying with capped backoff for as long as it takes (a service boots with NATS down); once connected
 * the client reconnects by itself forever. `onConnect` hooks run after every (re)connect.
 */
export class NatsLink implements EventLink {
  private readonly servers: string[];
  private readonly logger: EventsLogger;
  private state: State = { kind: "idle" };
  #connects = 0;
  private nc: NatsConnection | null = null;
  private js: JetStreamClient | null = null;
  private jsm: JetStreamManager | null = null;
  private readonly hooks = new Set<OnConnectHook>();
  /** Increases with every (re)connect; a hook run belonging to an older one gives up. */
  private generation = 0;
  private closing = false;
  private readonly sleeps = new Set<Sleep>();
  private connectLoop: Promise<void> | null = null;
  private readonly giveUpWatches = new Set<GiveUpWatch>();

  constructor(private readonly options: NatsLinkOptions) {
    this.servers = (Array.isArray(options.servers) ? options.servers : [options.servers]).map(withScheme);
    if (this.servers.length === 0) throw new Error("NatsLink needs at least one server");
    this.logger = options.logger ?? silentLogger;
  }

  /** Starts connecting in the background; never throws and never waits. */
  start(): void {
    if (this.state.kind !== "idle" || this.closing) return;
    this.state = { kind: "connecting", attempts: 0, lastError: null };
    this.connectLoop = this.connectUntilConnected();
  }

  status(): LinkStatus {
    const s = this.state;
    switch (s.kind) {
      case "idle":
        return { ok: false, detail: "not started" };
      case "connecting":
        return {
          ok: false,
          detail: s.lastError ?? `connecting to ${this.servers.join(", ")}`,
        };
      case "connected":
        return { ok: true, detail: `connected to ${s.server}` };
      case "reconnecting":
        return { ok: false, detail: `reconnecting to ${s.server} (disconnected since ${s.since.toISOString()})` };
      case "closed":
        return { ok: false, detail: "closed" };
    }
  }

  /**
   * How many times the link has connected or reconnected, counted the moment it happens (before the
   * onConnect hooks run): what was true before a gap in the connection can be told from what is true after.
   */
  get connects(): number {
    return this.#connects;
  }

  isConnected(): boolean {
    return this.state.kind === "connected" && this.nc !== null && !this.nc.isClosed();
  }

  /** True once close() was called: the link never connects again. */
  isClosed(): boolean {
    return this.closing;
  }

  /** The live connection; throws NatsNotConnectedError when there is none right now. */
  connection(): NatsConnection {
    if (!this.nc || !this.isConnected())
      throw new NatsNotConnectedError(`NATS is not connected: ${this.status().detail}`);
    return this.nc;
  }

  /** A JetStream client on the live connection; throws NatsNotConnectedError when not connected. */
  jetstream(): JetStreamClient {
    const nc = this.connection();
    this.js ??= jetstream(nc, { timeout: this.options.requestTimeoutMs ?? 5_000 });
    return this.js;
  }

  /** A JetStream manager on the live connection; rejects with NatsNotConnectedError when not connected. */
  async jetstreamManager(): Promise<JetStreamManager> {
    const nc = this.connection();
    this.jsm ??= await jetstreamManager(nc, { timeout: this.options.requestTimeoutMs ?? 5_000, checkAPI: false });
    return this.jsm;
  }

  async ensureStream(options: EnsureStreamOptions): Promise<void> {
    await ensureStream(await this.jetstreamManager(), options);
  }

  /** Rejects at once when NATS is down, rather than waiting out the ack timeout. */
  async publish(
    subject: string,
    data: Uint8Array,
    options: { msgId: string; headers: Record<string, string>; timeoutMs: number },
  ): Promise<{ seq: number; duplicate: boolean }> {
    return publishTo(this.jetstream(), subject, data, options);
  }

  refusedMessage(error: unknown): boolean {
    return refusedByNats(error);
  }

  describePublishError(error: unknown): string {
    return describeNatsPublishError(error);
  }

  async openConsumer(stream: string, spec: ConsumerSpec): Promise<OpenedConsumer> {
    return openNatsConsumer(this.jetstream(), await this.jetstreamManager(), stream, spec);
  }

  async deleteConsumer(stream: string, name: string): Promise<void> {
    await (await this.jetstreamManager()).consumers.delete(stream, name);
  }

  /**
   * Core NATS subscriptions to the stream's give-up advisories, in one queue group shared by every link.
   * The client renews them after a reconnect; a new connection (see onClosed) subscribes them again.
   */
  watchGiveUps(stream: string, onGiveUp: (giveUp: GiveUp) => void): () => void {
    const watch: GiveUpWatch = { stream, onGiveUp, subscriptions: [] };
    this.giveUpWatches.add(watch);
    if (this.nc && !this.nc.isClosed()) this.subscribeGiveUps(this.nc, watch);
    return () => {
      if (!this.giveUpWatches.delete(watch)) return;
      for (const subscription of watch.subscriptions.splice(0)) subscription.unsubscribe();
    };
  }

  private subscribeGiveUps(nc: NatsConnection, watch: GiveUpWatch): void {
    const { stream } = watch;
    try {
      watch.subscriptions = subscribeToGiveUps(
        nc,
        stream,
        (giveUp) => {
          try {
            watch.onGiveUp(giveUp);
          } catch (err) {
            this.logger.warn({ stream, err: describeError(err) }, "give-up watcher failed");
          }
        },
        (err) => this.logger.error({ stream, err: describeError(err) }, "cannot watch JetStream give-up advisories"),
      );
    } catch (err) {
      // The connection is closing; the next one subscribes again.
      this.logger.warn({ stream, err: describeError(err) }, "cannot watch JetStream give-up advisories yet");
    }
  }

  /**
   * Registers a hook run after every connect and reconnect, and at once when already connected.
   * Returns a function that unregisters it.
   */
  onConnect(hook: OnConnectHook): () => void {
    this.hooks.add(hook);
    if (this.isConnected()) void this.runHook(hook, this.generation);
    return () => {
      this.hooks.delete(hook);
    };
  }

  /** Drains the connection (pending publishes are flushed) and stops reconnecting. */
  async close(): Promise<void> {
    if (this.closing) {
      await this.connectLoop;
      return;
    }
    this.closing = true;
    this.state = { kind: "closed" };
    for (const s of this.sleeps) s.cancel();
    const nc = this.nc;
    this.nc = null;
    this.js = null;
    this.jsm = null;
    if (nc && !nc.isClosed()) {
      const timeout = sleep(this.options.drainTimeoutMs ?? 5_000);
      await Promise.race([nc.drain().catch(() => undefined), timeout.promise]);
      timeout.cancel();
      if (!nc.isClosed()) await nc.close().catch(() => undefined);
    }
    await this.connectLoop;
  }

  private async pause(ms: number): Promise<void> {
    const s = sleep(ms);
    this.sleeps.add(s);
    await s.promise;
    this.sleeps.delete(s);
  }

  private async connectUntilConnected(): Promise<void> {
    let attempts = 0;
    while (!this.closing) {
      try {
        const nc = await connect({
          ...this.options.connectionOptions,
          servers: this.servers,
          name: this.options.name,
          timeout: this.options.connectTimeoutMs ?? 2_000,
          reconnect: true,
          maxReconnectAttempts: -1,
          reconnectTimeWait: this.options.reconnectTimeWaitMs ?? 1_000,
          waitOnFirstConnect: false,
        });
        if (this.closing) {
          await nc.close().catch(() => undefined);
          return;
        }
        this.attach(nc);
        return;
      } catch (err) {
        attempts++;
        const lastError = `cannot reach ${this.servers.join(", ")}: ${connectFailureReason(err)}`;
        if (this.closing) return;
        this.state = { kind: "connecting", attempts, lastError };
        // The first failure and then every tenth, so a long outage does not flood the log.
        if (attempts === 1 || attempts % 10 === 0) this.logger.warn({ attempts, err: describeError(err) }, lastError);
        await this.pause(backoffMs(attempts, this.options.retryMinMs ?? 250, this.options.retryMaxMs ?? 10_000));
      }
    }
  }

  private attach(nc: NatsConnection): void {
    this.nc = nc;
    this.js = null;
    this.jsm = null;
    const server = withScheme(nc.getServer());
    this.state = { kind: "connected", server };
    this.#connects += 1;
    this.logger.info({ server }, "connected to NATS");
    for (const watch of this.giveUpWatches) this.subscribeGiveUps(nc, watch);
    void this.watchStatus(nc);
    void nc.closed().then((err) => this.onClosed(nc, err instanceof Error ? err : null));
    this.runHooks();
  }

  private async watchStatus(nc: NatsConnection): Promise<void> {
    for await (const s of nc.status()) {
      if (this.nc !== nc || this.closing) return;
      switch (s.type) {
        case "disconnect":
          this.state = { kind: "reconnecting", server: withScheme(s.server), since: new Date() };
          this.logger.warn({ server: s.server }, "disconnected from NATS; reconnecting");
          break;
        case "reconnect": {
          const server = withScheme(s.server);
          this.state = { kind: "connected", server };
          this.#connects += 1;
          this.logger.info({ server }, "reconnected to NATS");
          this.runHooks();
          break;
        }
        case "error":
          this.logger.warn({ err: describeError(s.error) }, "NATS connection error");
          break;
        default:
          break;
      }
    }
  }

  /** The client gave up (e.g. an authorization error): start over with a new connection. */
  private onClosed(nc: NatsConnection, err: Error | null): void {
    if (this.nc !== nc || this.closing) return;
    this.nc = null;
    this.js = null;
    this.jsm = null;
    this.logger.error({ err: err ? describeError(err) : null }, "NATS connection closed; connecting again");
    this.state = { kind: "connecting", attempts: 0, lastError: err ? describeError(err) : "connection closed" };
    this.connectLoop = this.connectUntilConnected();
  }

  private runHooks(): void {
    const generation = ++this.generation;
    void (async () => {
      for (const hook of [...this.hooks]) {
        if (generation !== this.generation) return;
        await this.runHook(hook, generation);
      }
    })();
  }

  private async runHook(hook: OnConnectHook, generation: number): Promise<void> {
    for (let attempt = 1; generation === this.generation && this.isConnected() && this.hooks.has(hook); attempt++) {
      try {
        await hook(this);
        return;
      } catch (err) {
        this.logger.warn({ attempt, err: describeError(err) }, "NATS on-connect hook failed; retrying");
        await this.pause(backoffMs(attempt, 250, 10_000));
      }
    }
  }
}
