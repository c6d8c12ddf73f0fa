// The in-process event bus: the part of JetStream the relay and the consumers rely on, kept in this
// process's memory, for the embedded development mode (one process, no NATS server). Streams capture
// subjects (with `*` and `>` wildcards) and drop a message id seen within their duplicate window; pull
// consumers, durable or ephemeral, get each message until it is acknowledged, again after a nak's delay or
// when the ack wait passes, up to their delivery limit; a terminated message is never delivered again. A
// message given up on (the delivery limit reached, or terminated) is reported to one of the stream's give-up
// watchers, as JetStream's advisory reaches one member of a queue group. A work-queue stream forgets a
// message once it is acknowledged, a stream with a maximum age once it is that old. Nothing survives the
// process: the outbox in the database is what keeps events across a restart.
import type { EventMessage, GiveUp, MessageFeed } from "./transport";

/** A message id published again within the duplicate window is stored once. JetStream's default. */
const DEFAULT_DUPLICATE_WINDOW_MS = 120_000;

export interface LocalStreamOptions {
  name: string;
  subjects: string[];
  retention?: "limits" | "workqueue";
  maxAgeMs?: number;
  duplicateWindowMs?: number;
}

export interface LocalConsumerOptions {
  /** Only these subjects; every subject of the stream when empty. */
  filterSubjects?: string[];
  /** Where a new consumer starts: the first message kept, the next one published, or a sequence or time. */
  deliver?: "all" | "new" | { startSequence: number } | { startTime: Date };
  ackWaitMs?: number;
  /** Deliveries before a message is given up; -1 for no limit. */
  maxDeliver?: number;
  /** Waits before each redelivery of an unacknowledged message, in place of the ack wait. */
  backoffMs?: number[];
}

/** A consumer's messages as they become available (see EventMessage); `close` ends the iteration. */
export type LocalFeed = MessageFeed;

/** The message itself was refused (no stream captures its subject): retrying the same message will not help. */
export class LocalPublishRefused extends Error {
  override name = "LocalPublishRefused";
}

interface Stored {
  seq: number;
  subject: string;
  data: Uint8Array;
  headers: ReadonlyMap<string, string>;
  at: number;
  msgId: string | undefined;
}

/** NATS subject matching: tokens split on `.`, `*` matches one token, a final `>` one or more. */
export function subjectMatches(pattern: string, subject: string): boolean {
  const want = pattern.split(".");
  const have = subject.split(".");
  for (let i = 0; i < want.length; i++) {
    if (want[i] === ">") return have.length > i;
    if (i >= have.length || (want[i] !== "*" && want[i] !== have[i])) return false;
  }
  return want.length === have.length;
}

class LocalStream {
  readonly messages: Stored[] = [];
  readonly consumers = new Map<string, LocalConsumer>();
  #lastSeq = 0;
  readonly #seen = new Map<string, { seq: number; at: number }>();

  constructor(public options: LocalStreamOptions) {}

  get lastSeq(): number {
    return this.#lastSeq;
  }

  captures(subject: string): boolean {
    return this.options.subjects.some((pattern) => subjectMatches(pattern, subject));
  }

  append(
    subject: string,
    data: Uint8Array,
    headers: ReadonlyMap<string, string>,
    msgId: string | undefined,
    now: number,
  ) {
    this.expire(now);
    const window = this.options.duplicateWindowMs ?? DEFAULT_DUPLICATE_WINDOW_MS;
    for (const [id, seen] of this.#seen) if (now - seen.at > window) this.#seen.delete(id);
    const earlier = msgId === undefined ? undefined : this.#seen.get(msgId);
    if (earlier) return { seq: earlier.seq, duplicate: true };
    this.#lastSeq += 1;
    const stored: Stored = { seq: this.#lastSeq, subject, data, headers, at: now, msgId };
    this.messages.push(stored);
    if (msgId !== undefined) this.#seen.set(msgId, { seq: stored.seq, at: now });
    for (const consumer of this.consumers.values()) consumer.wake();
    return { seq: stored.seq, duplicate: false };
  }

  /** Drops what is older than the stream's maximum age. */
  expire(now: number): void {
    const maxAge = this.options.maxAgeMs;
    if (maxAge === undefined) return;
    while (this.messages[0] && now - this.messages[0].at > maxAge) this.messages.shift();
  }

  /** A work queue forgets a message once it is acknowledged. */
  acknowledged(seq: number): void {
    if (this.options.retention !== "workqueue") return;
    const index = this.messages.findIndex((m) => m.seq === seq);
    if (index >= 0) this.messages.splice(index, 1);
  }
}

type GaveUp = (seq: number, deliveries: number, reason: GiveUp["reason"]) => void;

class LocalConsumer {
  /** The next stream sequence this consumer has not delivered yet. */
  #next: number;
  /** Delivered, not yet acknowledged: when each is due again, and how often it was delivered. */
  readonly #pending = new Map<number, { dueAt: number; deliveries: number }>();
  readonly #waiters = new Set<() => void>();
  #timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly stream: LocalStream,
    readonly options: LocalConsumerOptions,
    private readonly now: () => number,
    private readonly gaveUp: GaveUp,
  ) {
    const deliver = options.deliver ?? "all";
    if (deliver === "new") this.#next = stream.lastSeq + 1;
    else if (deliver === "all") this.#next = 1;
    else if ("startSequence" in deliver) this.#next = deliver.startSequence;
    else this.#next = stream.messages.find((m) => m.at >= deliver.startTime.getTime())?.seq ?? stream.lastSeq + 1;
  }

  wake(): void {
    for (const waiter of this.#waiters) waiter();
    this.#waiters.clear();
  }

  #wants(message: Stored): boolean {
    const filters = this.options.filterSubjects ?? [];
    return filters.length === 0 || filters.some((pattern) => subjectMatches(pattern, message.subject));
  }

  /** The next message due, marking it delivered; null when none is due now. */
  take(): EventMessage | null {
    const now = this.now();
    this.stream.expire(now);
    const kept = new Set(this.stream.messages.map((m) => m.seq));
    // A message the stream no longer keeps (expired, or acknowledged elsewhere in a work queue) is not owed.
    for (const seq of this.#pending.keys()) if (!kept.has(seq)) this.#pending.delete(seq);
    // Redeliveries first, oldest sequence first, as JetStream does.
    const due = [...this.#pending].filter(([, state]) => state.dueAt <= now).sort(([a], [b]) => a - b)[0];
    if (due) return this.#deliver(due[0], due[1].deliveries + 1);
    for (const message of this.stream.messages) {
      if (message.seq < this.#next) continue;
      this.#next = message.seq + 1;
      if (this.#wants(message)) return this.#deliver(message.seq, 1);
    }
    return null;
  }

  /** When the earliest pending message is due again; undefined when none waits. */
  #nextDue(): number | undefined {
    let earliest: number | undefined;
    for (const { dueAt } of this.#pending.values())
      earliest = earliest === undefined ? dueAt : Math.min(earliest, dueAt);
    return earliest;
  }

  #deliver(seq: number, deliveries: number): EventMessage | null {
    const message = this.stream.messages.find((m) => m.seq === seq);
    const maxDeliver = this.options.maxDeliver ?? -1;
    if (!message || (maxDeliver > 0 && deliveries > maxDeliver)) {
      this.#settle(seq, false);
      // Given up when it would be delivered once more, as JetStream does.
      if (message) this.gaveUp(seq, deliveries - 1, "max_deliveries");
      return this.take();
    }
    const backoff = this.options.backoffMs;
    const wait = backoff?.[Math.min(deliveries - 1, backoff.length - 1)] ?? this.options.ackWaitMs ?? 30_000;
    this.#pending.set(seq, { dueAt: this.now() + wait, deliveries });
    let settled = false;
    const once = (action: () => void) => {
      if (settled) return;
      settled = true;
      action();
    };
    return {
      subject: message.subject,
      data: message.data,
      messageId: message.msgId,
      header: (name) => message.headers.get(name),
      streamSequence: seq,
      deliveryCount: deliveries,
      redelivered: deliveries > 1,
      ack: () => once(() => this.#settle(seq, true)),
      term: () =>
        once(() => {
          this.#settle(seq, false);
          this.gaveUp(seq, deliveries, "terminated");
        }),
      nak: (delayMs = 0) =>
        once(() => {
          this.#pending.set(seq, { dueAt: this.now() + delayMs, deliveries });
          this.#schedule();
        }),
    };
  }

  #settle(seq: number, acknowledged: boolean): void {
    this.#pending.delete(seq);
    if (acknowledged) this.stream.acknowledged(seq);
  }

  /** Wakes the feed when the earliest pending message falls due. */
  #schedule(): void {
    clearTimeout(this.#timer);
    const due = this.#nextDue();
    if (due === undefined) return;
    this.#timer = setTimeout(() => this.wake(), Math.max(0, due - this.now()));
    this.#timer.unref();
  }

  feed(): LocalFeed {
    let closed = false;
    let ended: () => void = () => undefined;
    const finished = new Promise<undefined>((resolve) => {
      ended = () => resolve(undefined);
    });
    const consumer = this;
    return {
      close: async () => {
        closed = true;
        consumer.wake();
      },
      closed: () => finished,
      async *[Symbol.asyncIterator]() {
        try {
          while (!closed) {
            const message = consumer.take();
            if (message) {
              consumer.#schedule();
              yield message;
              continue;
            }
            consumer.#schedule();
            await new Promise<void>((resolve) => consumer.#waiters.add(resolve));
          }
        } finally {
          ended();
        }
      },
    };
  }

  stop(): void {
    clearTimeout(this.#timer);
    this.wake();
  }
}

/** Streams and consumers in this process's memory. */
export class LocalBus {
  readonly #streams = new Map<string, LocalStream>();
  /** By stream name: the stream need not exist yet. */
  readonly #giveUpWatchers = new Map<string, Set<(giveUp: GiveUp) => void>>();
  #giveUpTurn = 0;

  constructor(private readonly now: () => number = Date.now) {}

  /** Creates the stream, or brings an existing one to these subjects and limits. */
  ensureStream(options: LocalStreamOptions): void {
    const existing = this.#streams.get(options.name);
    if (existing) {
      existing.options = { ...options, retention: existing.options.retention ?? options.retention };
      return;
    }
    this.#streams.set(options.name, new LocalStream(options));
  }

  /** Stores a message in the stream that captures its subject; a message id seen lately is stored once. */
  publish(
    subject: string,
    data: Uint8Array,
    options: { msgId?: string; headers?: ReadonlyMap<string, string> } = {},
  ): { stream: string; seq: number; duplicate: boolean } {
    const stream = [...this.#streams.values()].find((s) => s.captures(subject));
    if (!stream) throw new LocalPublishRefused(`no stream captures ${subject}`);
    const stored = stream.append(subject, data, options.headers ?? new Map(), options.msgId, this.now());
    return { stream: stream.options.name, ...stored };
  }

  /**
   * The consumer `name` of the stream: an existing one keeps its place (and ignores `options`), a new one
   * starts where `options.deliver` says.
   */
  consumer(streamName: string, name: string, options: LocalConsumerOptions = {}): { feed(): LocalFeed } {
    const stream = this.#streams.get(streamName);
    if (!stream) throw new LocalPublishRefused(`no stream ${streamName}`);
    let consumer = stream.consumers.get(name);
    if (!consumer) {
      consumer = new LocalConsumer(stream, options, this.now, (seq, deliveries, reason) =>
        this.#gaveUp({ stream: streamName, consumer: name, streamSequence: seq, deliveries, reason }),
      );
      stream.consumers.set(name, consumer);
    }
    return consumer;
  }

  /**
   * Calls `onGiveUp` for messages the stream's consumers give up on (the delivery limit reached, or
   * terminated); with several watchers of a stream, each give-up reaches one of them, in turn. Returns the
   * function that stops watching.
   */
  watchGiveUps(streamName: string, onGiveUp: (giveUp: GiveUp) => void): () => void {
    let watchers = this.#giveUpWatchers.get(streamName);
    if (!watchers) {
      watchers = new Set();
      this.#giveUpWatchers.set(streamName, watchers);
    }
    // A function of its own, so one function watching twice is two watchers.
    const watcher = (giveUp: GiveUp) => onGiveUp(giveUp);
    watchers.add(watcher);
    return () => {
      watchers.delete(watcher);
    };
  }

  #gaveUp(giveUp: GiveUp): void {
    const watchers = [...(this.#giveUpWatchers.get(giveUp.stream) ?? [])];
    const watcher = watchers[this.#giveUpTurn++ % Math.max(1, watchers.length)];
    try {
      watcher?.(giveUp);
    } catch {
      // A watcher's failure is its own; the consumer goes on.
    }
  }

  deleteConsumer(streamName: string, name: string): void {
    const stream = this.#streams.get(streamName);
    stream?.consumers.get(name)?.stop();
    stream?.consumers.delete(name);
  }

  /** The sequence of the last message stored in the stream (0 before any). */
  lastSequence(streamName: string): number {
    return this.#streams.get(streamName)?.lastSeq ?? 0;
  }

  /** How many messages the stream keeps now. */
  size(streamName: string): number {
    const stream = this.#streams.get(streamName);
    stream?.expire(this.now());
    return stream?.messages.length ?? 0;
  }
}
