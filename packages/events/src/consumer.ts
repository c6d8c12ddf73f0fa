import type { Db, Tx } from "@ipaas/db";
import { type DomainEvent, EVENT_TYPE_HEADER, PoisonMessageError, parseEvent } from "./contracts";
import { backoffMs, describeError, type EventsLogger, type Sleep, silentLogger, sleep } from "./logger";
import type { ConsumerSpec, EventLink, EventMessage, MessageFeed, OpenedConsumer } from "./transport";

export interface MessageContext {
  /** The publisher's message id (Nats-Msg-Id: the outbox id); `<stream>:<sequence>` when absent. */
  messageId: string;
  /** True when this message was delivered before (not acknowledged in time, or nak'ed). */
  redelivered: boolean;
  streamSequence: number;
  /** 1 on the first delivery. */
  deliveryCount: number;
  subject: string;
}

export type EventHandler = (event: DomainEvent, context: MessageContext) => Promise<void>;

/** Where an ephemeral consumer starts: only events published from now on, every stored event, or from a time. */
export type EphemeralStart = "new" | "all" | { startTime: Date };

export interface StartConsumerOptions {
  link: EventLink;
  stream: string;
  /**
   * A durable consumer shared by every instance that names it: each event is handled once per name
   * (work sharing). Without it, each call gets its own ephemeral consumer and sees every event
   * (e.g. per-instance cache invalidation).
   */
  durableName?: string;
  filterSubjects?: string[];
  handler: EventHandler;
  logger?: EventsLogger;
  /** Durable only: create or update the durable consumer on start (default true). */
  ensureDurable?: boolean;
  /** How long the server waits for an ack before redelivering. Default 30 000 ms. */
  ackWaitMs?: number;
  /** Deliveries before the server gives up on a message (see alertOnGiveUps); -1 (default) for no limit. */
  maxDeliver?: number;
  /** Durable only: redelivery delays by attempt. */
  backoffMs?: number[];
  /** Delay before a message whose handler failed is redelivered. Default: 1 s doubling per delivery, at most 30 s. */
  nakDelayMs?: (deliveryCount: number) => number;
  /** Ephemeral only: where it starts. Default "new". */
  start?: EphemeralStart;
  /** Ephemeral only: the server removes the consumer after this long without this instance. Default 60 000 ms. */
  inactiveThresholdMs?: number;
  /** Messages fetched ahead of the handler. Default 32. */
  maxMessages?: number;
  /** Pull request expiry (at least 1 000 ms; heartbeats at half of it). Default 30 000 ms. */
  expiresMs?: number;
  /** Called each time the consumer exists on the server and messages flow: from here on nothing is missed. */
  onConsuming?: () => void;
  /** Called when consuming stops (a lost consumer, a closed connection, stop()) until the next onConsuming. */
  onInterrupted?: () => void;
}

export interface RunningConsumer {
  /** Stops fetching, waits for the handler in progress, and removes an ephemeral consumer. */
  stop(): Promise<void>;
}

function defaultNakDelay(deliveryCount: number): number {
  return Math.min(30_000, 1_000 * 2 ** Math.max(0, Math.min(deliveryCount - 1, 10)));
}

class ConsumerRunner implements RunningConsumer {
  private readonly logger: EventsLogger;
  private stopped = false;
  private wait: Sleep | null = null;
  private messages: MessageFeed | null = null;
  private readonly loop: Promise<void>;
  private readonly unsubscribe: () => void;
  /** Ephemeral only: the server-side consumer name, and the stream position to resume from if it is lost. */
  private ephemeralName: string | null = null;
  private lastStreamSeq = 0;
  private readonly nakedSeqs = new Set<number>();

  constructor(private readonly options: StartConsumerOptions) {
    this.logger = options.logger ?? silentLogger;
    // A (re)connect wakes the loop when it is waiting to retry.
    this.unsubscribe = options.link.onConnect(() => this.wait?.cancel());
    this.loop = this.run();
  }

  private get label(): string {
    return this.options.durableName ?? this.ephemeralName ?? "ephemeral";
  }

  async stop(): Promise<void> {
    if (this.stopped) return this.loop;
    this.stopped = true;
    this.unsubscribe();
    this.wait?.cancel();
    await this.messages?.close().catch(() => undefined);
    await this.loop;
    if (this.ephemeralName && this.options.link.isConnected()) {
      try {
        await this.options.link.deleteConsumer(this.options.stream, this.ephemeralName);
      } catch {
        // The server removes it after inactiveThreshold anyway.
      }
    }
  }

  private async pause(ms: number): Promise<void> {
    this.wait = sleep(ms);
    await this.wait.promise;
    this.wait = null;
  }

  private async run(): Promise<void> {
    let failures = 0;
    while (!this.stopped) {
      if (this.options.link.isClosed()) {
        this.logger.info({ stream: this.options.stream, consumer: this.label }, "NATS link closed; consumer stopped");
        return;
      }
      if (!this.options.link.isConnected()) {
        // Woken by the link's onConnect hook; the timeout only guards against a missed wake-up.
        await this.pause(5_000);
        continue;
      }
      try {
        const consumer = await this.open();
        if (this.stopped) break;
        // The feed ends when the consumer or stream disappears, so it is recreated below.
        const messages = await consumer.consume({
          maxMessages: this.options.maxMessages ?? 32,
          expiresMs: this.options.expiresMs ?? 30_000,
        });
        this.messages = messages;
        if (this.stopped) {
          await messages.close();
          break;
        }
        failures = 0;
        this.logger.info({ stream: this.options.stream, consumer: this.label }, "consuming events");
        this.options.onConsuming?.();
        for await (const m of messages) {
          await this.handle(m);
          if (this.stopped) break;
        }
        // The iterator ends on stop(), a lost consumer or stream, or a closed connection.
        const closed = await messages.closed();
        if (!this.stopped) throw closed instanceof Error ? closed : new Error("consumer stopped receiving messages");
      } catch (err) {
        if (this.stopped) break;
        failures++;
        const retryInMs = backoffMs(failures, 250, 10_000);
        this.logger.warn(
          { stream: this.options.stream, consumer: this.label, err: describeError(err), retryInMs },
          "event consumer interrupted; restarting",
        );
        await this.pause(retryInMs);
      } finally {
        if (this.messages) this.options.onInterrupted?.();
        this.messages = null;
      }
    }
  }

  private async open(): Promise<OpenedConsumer> {
    const { link, stream } = this.options;
    const settings = {
      filterSubjects: this.options.filterSubjects,
      ackWaitMs: this.options.ackWaitMs ?? 30_000,
      maxDeliver: this.options.maxDeliver ?? -1,
    };
    const durable = this.options.durableName;
    if (durable) {
      return link.openConsumer(stream, {
        ...settings,
        kind: "durable",
        name: durable,
        ensure: this.options.ensureDurable ?? true,
        backoffMs: this.options.backoffMs,
      });
    }
    const resume = this.ephemeralName;
    const opened = await link.openConsumer(stream, {
      ...settings,
      kind: "ephemeral",
      resume,
      start: this.ephemeralStart(),
      inactiveThresholdMs: this.options.inactiveThresholdMs ?? 60_000,
    });
    if (resume && opened.name !== resume) {
      this.logger.warn({ stream, consumer: resume }, "ephemeral consumer lost; recreating it");
    }
    if (opened.name !== resume && this.lastStreamSeq === 0) this.lastStreamSeq = opened.startedAfter;
    this.ephemeralName = opened.name;
    return opened;
  }

  /** Where a new ephemeral consumer starts (used only when the one it had is gone, or at the first open). */
  private ephemeralStart(): Extract<ConsumerSpec, { kind: "ephemeral" }>["start"] {
    const start = this.options.start ?? "new";
    // A replacement for a lost consumer resumes where the last one was, including messages still to retry.
    // (With nothing seen yet, "all" and a start time simply start over as the lost consumer did.)
    if (this.ephemeralName && (start === "new" || this.lastStreamSeq > 0 || this.nakedSeqs.size > 0)) {
      return { startSequence: Math.min(this.lastStreamSeq + 1, ...this.nakedSeqs) };
    }
    return start;
  }

  private async handle(m: EventMessage): Promise<void> {
    const seq = m.streamSequence;
    this.lastStreamSeq = Math.max(this.lastStreamSeq, seq);
    const context: MessageContext = {
      messageId: m.messageId ?? `${this.options.stream}:${seq}`,
      redelivered: m.redelivered,
      streamSequence: seq,
      deliveryCount: m.deliveryCount,
      subject: m.subject,
    };
    let event: DomainEvent;
    try {
      event = parseEvent(m.header(EVENT_TYPE_HEADER) ?? "", m.data);
    } catch (err) {
      const reason = err instanceof PoisonMessageError ? err.message : describeError(err);
      this.logger.error(
        {
          stream: this.options.stream,
          consumer: this.label,
          subject: m.subject,
          seq,
          messageId: context.messageId,
          reason,
        },
        "poison event terminated",
      );
      this.nakedSeqs.delete(seq);
      // No reason on the wire: servers before 2.10 do not recognise "+TERM <reason>" and would redeliver.
      m.term();
      return;
    }
    try {
      await this.options.handler(event, context);
      this.nakedSeqs.delete(seq);
      m.ack();
    } catch (err) {
      const delay = (this.options.nakDelayMs ?? defaultNakDelay)(context.deliveryCount);
      this.logger.warn(
        {
          stream: this.options.stream,
          consumer: this.label,
          type: event.type,
          seq,
          messageId: context.messageId,
          deliveryCount: context.deliveryCount,
          retryInMs: delay,
          err: describeError(err),
        },
        "event handler failed; redelivering later",
      );
      this.nakedSeqs.add(seq);
      m.nak(delay);
    }
  }
}

/**
 * Consumes events from a stream with a JetStream pull consumer and re-establishes it after reconnects.
 * Each message is validated; the handler's success acks it, its failure naks it with a delay, and a poison
 * message (unknown type, invalid JSON, schema violation) is terminated and logged so later events keep
 * flowing. Delivery is at least once: make the handler idempotent (see applyOnce).
 */
export function startConsumer(options: StartConsumerOptions): RunningConsumer {
  return new ConsumerRunner(options);
}

/**
 * Logs every message a consumer of these streams gives up on, at `error` with `alert: "event_dead_lettered"`:
 * the stream, the consumer, the stream sequence (`seq`), the deliveries and the reason (`max_deliveries`, or
 * `terminated`, as for a poison message). Never the payload. Every instance and service watching a stream (on
 * one NATS account, or one in-process bus) shares the watch, so each give-up is logged once. Returns the
 * function that stops it.
 */
export function alertOnGiveUps(
  link: EventLink,
  streams: readonly string[],
  logger: EventsLogger,
  /** Called for each give-up this instance logs (a metric counts them). */
  counted: () => void = () => undefined,
): () => void {
  const stops = streams.map((stream) =>
    link.watchGiveUps(stream, (giveUp) => {
      counted();
      logger.error(
        {
          alert: "event_dead_lettered",
          stream: giveUp.stream,
          consumer: giveUp.consumer,
          seq: giveUp.streamSequence,
          deliveries: giveUp.deliveries,
          reason: giveUp.reason,
        },
        "event dead-lettered: JetStream will not deliver it to this consumer again",
      );
    }),
  );
  return () => {
    for (const stop of stops) stop();
  };
}

/**
 * Applies a message's effect at most once per consumer name: in one transaction, records
 * (consumer, messageId) in processed_events and runs `fn`. Returns false, without running `fn`, when that
 * message was already applied (a redelivery): acknowledge it and move on. If `fn` throws, nothing is
 * recorded and the error propagates (so the message is retried).
 */
export async function applyOnce(
  db: Db,
  consumerName: string,
  messageId: string,
  fn: (tx: Tx) => Promise<void>,
): Promise<boolean> {
  return db.$transaction(async (tx) => {
    const inserted = await tx.$executeRaw`
      INSERT INTO "processed_events" ("consumer", "messageId")
      VALUES (${consumerName}, ${messageId})
      ON CONFLICT DO NOTHING`;
    if (inserted === 0) return false;
    await fn(tx);
    return true;
  });
}
