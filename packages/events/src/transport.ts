// What the outbox relay, the consumers and the followers need of the transport under them: JetStream over a
// NATS connection (NatsLink), or the in-process bus of the embedded development mode.
import type { EnsureStreamOptions } from "./stream";

export interface LinkStatus {
  ok: boolean;
  detail: string;
}

/** A stored event as a consumer receives it. */
export interface EventMessage {
  readonly subject: string;
  readonly data: Uint8Array;
  /** The publisher's message id (the outbox row's id), when it gave one. */
  readonly messageId: string | undefined;
  header(name: string): string | undefined;
  readonly streamSequence: number;
  /** 1 on the first delivery. */
  readonly deliveryCount: number;
  readonly redelivered: boolean;
  ack(): void;
  /** Deliver it again after `delayMs`. */
  nak(delayMs?: number): void;
  /** Never deliver it again. */
  term(): void;
}

/** A consumer's messages as they arrive, until `close` or until the consumer is lost. */
export interface MessageFeed extends AsyncIterable<EventMessage> {
  close(): Promise<void>;
  /** Settles when the feed has ended: with the error that ended it, if one did. */
  closed(): Promise<Error | undefined>;
}

interface ConsumerSettings {
  /** Only these subjects; every subject of the stream when empty. */
  filterSubjects?: string[] | undefined;
  ackWaitMs: number;
  /** Deliveries before a message is given up; -1 for no limit. */
  maxDeliver: number;
}

/** Where an ephemeral consumer starts. */
export type ConsumerStart = "new" | "all" | { startTime: Date } | { startSequence: number };

export type ConsumerSpec =
  | (ConsumerSettings & {
      kind: "durable";
      name: string;
      /** Create it, or bring it to these settings, before opening it. */
      ensure: boolean;
      backoffMs?: number[] | undefined;
    })
  | (ConsumerSettings & {
      kind: "ephemeral";
      /** The name of the one this consumer had: opened again when it still exists. */
      resume: string | null;
      start: ConsumerStart;
      /** The transport removes it after this long without a reader. */
      inactiveThresholdMs: number;
    });

/** A message JetStream will not deliver to one consumer again although that consumer never acknowledged it. */
export interface GiveUp {
  stream: string;
  consumer: string;
  /** Null when the report did not say (a malformed advisory). */
  streamSequence: number | null;
  /** How many times it was delivered; null when the report did not say. */
  deliveries: number | null;
  /** `max_deliveries`: delivered `maxDeliver` times without an ack; `terminated`: the consumer terminated it. */
  reason: "max_deliveries" | "terminated";
}

export interface OpenedConsumer {
  name: string;
  /** For a new ephemeral consumer: the stream sequence it starts after. */
  startedAfter: number;
  consume(options: { maxMessages: number; expiresMs: number }): Promise<MessageFeed>;
}

export interface EventLink {
  start(): void;
  status(): LinkStatus;
  /** How many times the link has connected: a change means events may have been missed in between. */
  readonly connects: number;
  isConnected(): boolean;
  isClosed(): boolean;
  /** Runs `hook` after every connect (now, when connected already); returns the function that removes it. */
  onConnect(hook: () => Promise<void> | void): () => void;
  close(): Promise<void>;
  ensureStream(options: EnsureStreamOptions): Promise<void>;
  /** Stores a message, once per `msgId` within the stream's duplicate window. */
  publish(
    subject: string,
    data: Uint8Array,
    options: { msgId: string; headers: Record<string, string>; timeoutMs: number },
  ): Promise<{ seq: number; duplicate: boolean }>;
  /** Whether a publish error says this message was refused, rather than that the transport is unavailable. */
  refusedMessage(error: unknown): boolean;
  /** A publish error as it is stored with the outbox row. */
  describePublishError(error: unknown): string;
  openConsumer(stream: string, spec: ConsumerSpec): Promise<OpenedConsumer>;
  deleteConsumer(stream: string, name: string): Promise<void>;
  /**
   * Calls `onGiveUp` for every message a consumer of `stream` gives up on, from now on and across reconnects
   * (also when called before the link is connected). All watchers of a stream share one queue: each give-up
   * reaches one of them, whichever instance or service it is in. Returns the function that stops watching.
   */
  watchGiveUps(stream: string, onGiveUp: (giveUp: GiveUp) => void): () => void;
}
