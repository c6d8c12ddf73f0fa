// The event transport of the embedded development mode: EventLink over the in-process bus. Always
// connected; what the relay publishes reaches the consumers of the same process.
import { randomUUID } from "node:crypto";
import { LocalBus, LocalPublishRefused } from "./local-bus";
import { describeError } from "./logger";
import type { EnsureStreamOptions } from "./stream";
import type { ConsumerSpec, EventLink, GiveUp, LinkStatus, OpenedConsumer } from "./transport";

export class LocalLink implements EventLink {
  #closed = false;
  #started = false;
  readonly #hooks = new Set<() => Promise<void> | void>();

  constructor(readonly bus: LocalBus = new LocalBus()) {}

  get connects(): number {
    return this.#started ? 1 : 0;
  }

  start(): void {
    if (this.#started || this.#closed) return;
    this.#started = true;
    for (const hook of this.#hooks) void Promise.resolve().then(hook);
  }

  status(): LinkStatus {
    return this.isConnected() ? { ok: true, detail: "in process" } : { ok: false, detail: "closed" };
  }

  isConnected(): boolean {
    return this.#started && !this.#closed;
  }

  isClosed(): boolean {
    return this.#closed;
  }

  onConnect(hook: () => Promise<void> | void): () => void {
    this.#hooks.add(hook);
    if (this.isConnected()) void Promise.resolve().then(hook);
    return () => this.#hooks.delete(hook);
  }

  async close(): Promise<void> {
    this.#closed = true;
  }

  async ensureStream(options: EnsureStreamOptions): Promise<void> {
    this.bus.ensureStream(options);
  }

  async publish(
    subject: string,
    data: Uint8Array,
    options: { msgId: string; headers: Record<string, string>; timeoutMs: number },
  ): Promise<{ seq: number; duplicate: boolean }> {
    const headers = new Map(Object.entries(options.headers));
    const { seq, duplicate } = this.bus.publish(subject, data, { msgId: options.msgId, headers });
    return { seq, duplicate };
  }

  refusedMessage(error: unknown): boolean {
    return error instanceof LocalPublishRefused;
  }

  describePublishError(error: unknown): string {
    return describeError(error, 200);
  }

  async openConsumer(stream: string, spec: ConsumerSpec): Promise<OpenedConsumer> {
    const settings = {
      filterSubjects: spec.filterSubjects ?? [],
      ackWaitMs: spec.ackWaitMs,
      maxDeliver: spec.maxDeliver,
    };
    if (spec.kind === "durable") {
      const consumer = this.bus.consumer(stream, spec.name, {
        ...settings,
        ...(spec.backoffMs ? { backoffMs: spec.backoffMs } : {}),
      });
      return { name: spec.name, startedAfter: 0, consume: async () => consumer.feed() };
    }
    // An ephemeral consumer is never lost here: the one named is resumed whenever it was made.
    const name = spec.resume ?? `local_${randomUUID()}`;
    const startedAfter = spec.resume ? 0 : this.bus.lastSequence(stream);
    const consumer = this.bus.consumer(stream, name, { ...settings, deliver: spec.start });
    return { name, startedAfter, consume: async () => consumer.feed() };
  }

  async deleteConsumer(stream: string, name: string): Promise<void> {
    this.bus.deleteConsumer(stream, name);
  }

  /** Watches the bus, which links of other services in the process may share: each give-up reaches one watcher. */
  watchGiveUps(stream: string, onGiveUp: (giveUp: GiveUp) => void): () => void {
    return this.bus.watchGiveUps(stream, onGiveUp);
  }
}
