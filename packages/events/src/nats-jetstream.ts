// The transport's operations on JetStream (see transport.ts), for NatsLink: publishing with a message id,
// telling a refused message from an outage, and opening pull consumers.
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
import { errors, headers, nanos, nuid } from "@nats-io/transport-node";
import { describeError } from "./logger";
import { ensureDurableConsumer } from "./stream";
import type { ConsumerSpec, EventMessage, MessageFeed, OpenedConsumer } from "./transport";

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
