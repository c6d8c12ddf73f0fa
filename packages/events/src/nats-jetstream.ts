// The transport's operations on JetStream (see transport.ts), for NatsLink: publishing with a message id,
// telling a refused message from an outage, opening pull consumers, and reading give-up advisories.
import {
  AckPolicy,
  type ConsumerConfig,
  type ConsumerMessages,
  DeliverPolicy,
  JetStreamApiCodes,
  JetStreamApiError,
  type JetStreamClient,
  JetStreamError,
  type JetStreamManager,
  type JsMsg,
  PubHeaders,
} from "@nats-io/jetstream";
import { errors, headers, type NatsConnection, nanos, nuid, type Subscription } from "@nats-io/transport-node";
import { describeError } from "./logger";
import { ensureDurableConsumer } from "./stream";
import type { ConsumerSpec, EventMessage, GiveUp, MessageFeed, OpenedConsumer } from "./transport";

export async function publishTo(
  js: JetStreamClient,
  subject: string,
  data: Uint8Array,
  options: { msgId: string; headers: Record<string, string>; timeoutMs: number },
): Promise<{ seq: number; duplicate: boolean }> {
  const h = headers();
  for (const [name, value] of Object.entries(options.headers)) h.set(name, value);
  const ack = await js.publish(subject, data, { msgID: options.msgId, headers: h, timeout: options.timeoutMs });
  return { seq: ack.seq, duplicate: ack.duplicate };
}

function isNoResponders(err: unknown): boolean {
  // JetStream reports "no responders" to a publish as JetStreamNotEnabled (not exported), with the
  // core RequestError as its cause.
  const cause = err instanceof Error ? err.cause : undefined;
  return (
    err instanceof Error &&
    err.name === "JetStreamNotEnabled" &&
    cause instanceof errors.RequestError &&
    cause.isNoResponders()
  );
}

/** The message of a publish failure as stored in `lastError`: says what a bare "no responders" means. */
export function describeNatsPublishError(err: unknown): string {
  if (isNoResponders(err)) return "NoResponders: no stream captures this subject (or JetStream is off)";
  return describeError(err, 200);
}

/**
 * True when NATS (or the client, before sending) refused this particular message: no stream captures its
 * subject, the stream answered with an error, or the subject or size is invalid. False for everything
 * that says nothing about the message — not connected, a timeout, a dropped connection — and for errors
 * we do not recognise, which are treated as an outage: retried, never counted against the row.
 */
export function refusedByNats(err: unknown): boolean {
  return (
    isNoResponders(err) ||
    err instanceof JetStreamApiError ||
    err instanceof JetStreamError ||
    err instanceof errors.InvalidSubjectError ||
    err instanceof errors.InvalidArgumentError
  );
}

function isNotFound(err: unknown): boolean {
  return (
    err instanceof JetStreamApiError &&
    (err.code === JetStreamApiCodes.ConsumerNotFound || err.code === JetStreamApiCodes.StreamNotFound)
  );
}

function messageOf(m: JsMsg): EventMessage {
  return {
    subject: m.subject,
    data: m.data,
    messageId: m.headers?.get(PubHeaders.MsgIdHdr) || undefined,
    header: (name) => m.headers?.get(name) || undefined,
    streamSequence: m.info.streamSequence,
    deliveryCount: m.info.deliveryCount,
    redelivered: m.redelivered,
    ack: () => m.ack(),
    nak: (delayMs) => m.nak(delayMs),
    term: () => m.term(),
  };
}

function feedOf(messages: ConsumerMessages): MessageFeed {
  return {
    close: async () => {
      await messages.close();
    },
    closed: async () => (await messages.closed()) || undefined,
    async *[Symbol.asyncIterator]() {
      for await (const m of messages) yield messageOf(m);
    },
  };
}

function ephemeralConfig(spec: Extract<ConsumerSpec, { kind: "ephemeral" }>): Partial<ConsumerConfig> {
  const filters = spec.filterSubjects ?? [];
  const [only, ...rest] = filters;
  const config: Partial<ConsumerConfig> = {
    ack_policy: AckPolicy.Explicit,
    ack_wait: nanos(spec.ackWaitMs),
    max_deliver: spec.maxDeliver,
    inactive_threshold: nanos(spec.inactiveThresholdMs),
    mem_storage: true,
    num_replicas: 1,
    ...(only === undefined ? {} : rest.length === 0 ? { filter_subject: only } : { filter_subjects: filters }),
  };
  const start = spec.start;
  if (start === "new") return { ...config, deliver_policy: DeliverPolicy.New };
  if (start === "all") return { ...config, deliver_policy: DeliverPolicy.All };
  if ("startSequence" in start) {
    return { ...config, deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: start.startSequence };
  }
  return { ...config, deliver_policy: DeliverPolicy.StartTime, opt_start_time: start.startTime.toISOString() };
}

/** Opens a pull consumer: a durable one (ensured first when asked), or an ephemeral one, resumed if it still exists. */
export async function openNatsConsumer(
  js: JetStreamClient,
  jsm: JetStreamManager,
  stream: string,
  spec: ConsumerSpec,
): Promise<OpenedConsumer> {
  const opened = (name: string, startedAfter: number, consumer: Awaited<ReturnType<typeof js.consumers.get>>) => ({
    name,
    startedAfter,
    consume: async (options: { maxMessages: number; expiresMs: number }) =>
      feedOf(
        await consumer.consume({
          max_messages: options.maxMessages,
          expires: options.expiresMs,
          // End the iterator when the consumer or stream disappears, so it is recreated.
          abort_on_missing_resource: true,
        }),
      ),
  });
  if (spec.kind === "durable") {
    if (spec.ensure) {
      await ensureDurableConsumer(jsm, stream, {
        name: spec.name,
        filterSubjects: spec.filterSubjects,
        ackWaitMs: spec.ackWaitMs,
        maxDeliver: spec.maxDeliver,
        backoffMs: spec.backoffMs,
      });
    }
    return opened(spec.name, 0, await js.consumers.get(stream, spec.name));
  }
  if (spec.resume) {
    try {
      return opened(spec.resume, 0, await js.consumers.get(stream, spec.resume));
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }
  const name = `ipaas_${nuid.next()}`;
  const info = await jsm.consumers.add(stream, { ...ephemeralConfig(spec), name });
  return opened(name, info.delivered.stream_seq, await js.consumers.get(stream, name));
}

/** Where JetStream announces, per `<stream>.<consumer>`, a message it gave up on. */
const GIVE_UP_ADVISORIES: ReadonlyArray<[prefix: string, reason: GiveUp["reason"]]> = [
  ["$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES", "max_deliveries"],
  ["$JS.EVENT.ADVISORY.CONSUMER.MSG_TERMINATED", "terminated"],
];

/** The queue group of every give-up subscription, so that each advisory reaches one subscriber. */
const GIVE_UP_QUEUE = "ipaas_give_ups";

function count(value: unknown): number | null {
  return typeof value === "number" && Number.isSafeInteger(value) && value >= 0 ? value : null;
}

/**
 * A give-up advisory as a GiveUp: the stream and consumer from its subject (names hold no dots), the sequence
 * and delivery count from its JSON body, null where the body does not say. Null for any other subject.
 */
export function giveUpOf(subject: string, data: Uint8Array): GiveUp | null {
  for (const [prefix, reason] of GIVE_UP_ADVISORIES) {
    if (!subject.startsWith(`${prefix}.`)) continue;
    const [stream, consumer, ...rest] = subject.slice(prefix.length + 1).split(".");
    if (!stream || !consumer || rest.length > 0) return null;
    let body: Record<string, unknown> = {};
    try {
      const parsed: unknown = JSON.parse(new TextDecoder().decode(data));
      if (parsed !== null && typeof parsed === "object") body = parsed as Record<string, unknown>;
    } catch {
      // The subject alone still says which consumer gave up on a message.
    }
    return { stream, consumer, streamSequence: count(body.stream_seq), deliveries: count(body.deliveries), reason };
  }
  return null;
}

/**
 * Subscribes (core NATS, in the shared queue group) to the give-up advisories of every consumer of
 * `stream`. `onError` hears of a subscription the server refused (e.g. no permission for `$JS.EVENT.>`).
 */
export function subscribeToGiveUps(
  nc: NatsConnection,
  stream: string,
  onGiveUp: (giveUp: GiveUp) => void,
  onError: (error: Error) => void,
): Subscription[] {
  return GIVE_UP_ADVISORIES.map(([prefix]) =>
    nc.subscribe(`${prefix}.${stream}.*`, {
      queue: GIVE_UP_QUEUE,
      callback: (error, msg) => {
        if (error) {
          onError(error);
          return;
        }
        const giveUp = giveUpOf(msg.subject, msg.data);
        if (giveUp) onGiveUp(giveUp);
      },
    }),
  );
}
