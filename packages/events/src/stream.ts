import {
  AckPolicy,
  type ConsumerConfig,
  type ConsumerInfo,
  type ConsumerUpdateConfig,
  DeliverPolicy,
  JetStreamApiCodes,
  JetStreamApiError,
  type JetStreamManager,
  RetentionPolicy,
  StorageType,
  type StreamInfo,
} from "@nats-io/jetstream";
import { nanos } from "@nats-io/transport-node";

export interface EnsureStreamOptions {
  name: string;
  subjects: string[];
  /** Messages with the same Nats-Msg-Id inside this window are stored once. Default 120 000 ms. */
  duplicateWindowMs?: number;
  /** Messages older than this are discarded; unset leaves the stream's current setting (new streams: forever). */
  maxAgeMs?: number;
  /** Set when the stream is created; JetStream cannot change it later. Default `limits`. */
  retention?: "limits" | "workqueue";
}

export interface EnsureDurableConsumerOptions {
  name: string;
  /** Only these subjects; every subject of the stream when empty. Several subjects need nats-server 2.10+. */
  filterSubjects?: string[];
  /** How long the server waits for an ack before redelivering. */
  ackWaitMs: number;
  /** Deliveries before the server gives up on a message; -1 for no limit. */
  maxDeliver: number;
  /** Redelivery delays (replace ackWait per attempt); needs maxDeliver greater than its length. */
  backoffMs?: number[];
  /** Where a consumer that does not exist yet starts. Default "all": the whole stream. */
  deliverPolicy?: "all" | "new";
  /** Largest number of unacknowledged messages in flight. Server default when unset. */
  maxAckPending?: number;
}

function isApiError(err: unknown, code: number): boolean {
  return err instanceof JetStreamApiError && err.code === code;
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  const set = new Set(a);
  return b.every((x) => set.has(x));
}

/**
 * Creates the stream (file storage, limits or work-queue retention) or brings an existing one to the given subjects,
 * duplicate window and max age. Idempotent: calling it again with the same options changes nothing.
 */
export async function ensureStream(jsm: JetStreamManager, options: EnsureStreamOptions): Promise<StreamInfo> {
  if (options.subjects.length === 0) throw new Error(`stream ${options.name} needs at least one subject`);
  const duplicateWindow = nanos(options.duplicateWindowMs ?? 120_000);
  const maxAge = options.maxAgeMs === undefined ? undefined : nanos(options.maxAgeMs);

  let info: StreamInfo | null = null;
  try {
    info = await jsm.streams.info(options.name);
  } catch (err) {
    if (!isApiError(err, JetStreamApiCodes.StreamNotFound)) throw err;
  }
  if (!info) {
    try {
      return await jsm.streams.add({
        name: options.name,
        subjects: options.subjects,
        storage: StorageType.File,
        retention: options.retention === "workqueue" ? RetentionPolicy.Workqueue : RetentionPolicy.Limits,
        duplicate_window: duplicateWindow,
        ...(maxAge === undefined ? {} : { max_age: maxAge }),
      });
    } catch (err) {
      // Another instance created it meanwhile (with a different config, or the add would have succeeded).
      if (!(err instanceof JetStreamApiError)) throw err;
      info = await jsm.streams.info(options.name);
    }
  }
  if (info.config.storage !== StorageType.File) {
    throw new Error(`stream ${options.name} exists with ${info.config.storage} storage; it must be file storage`);
  }
  const upToDate =
    sameSet(info.config.subjects ?? [], options.subjects) &&
    info.config.duplicate_window === duplicateWindow &&
    (maxAge === undefined || info.config.max_age === maxAge);
  if (upToDate) return info;
  return jsm.streams.update(options.name, {
    subjects: options.subjects,
    duplicate_window: duplicateWindow,
    ...(maxAge === undefined ? {} : { max_age: maxAge }),
  });
}

function filterConfig(
  subjects: string[] | undefined,
): Pick<ConsumerUpdateConfig, "filter_subject" | "filter_subjects"> {
  // `undefined` (dropped from the JSON) rather than a missing key, so an update clears the other form.
  if (!subjects || subjects.length === 0) return { filter_subject: undefined, filter_subjects: undefined };
  const [only, ...rest] = subjects;
  // A single filter uses filter_subject, which every JetStream server understands.
  if (only !== undefined && rest.length === 0) return { filter_subject: only, filter_subjects: undefined };
  return { filter_subject: undefined, filter_subjects: subjects };
}

function currentFilters(config: ConsumerConfig): string[] {
  if (config.filter_subjects && config.filter_subjects.length > 0) return config.filter_subjects;
  return config.filter_subject ? [config.filter_subject] : [];
}

/**
 * Creates a durable pull consumer with explicit acks, or updates an existing one to the given settings.
 * Idempotent: calling it again with the same options changes nothing.
 */
export async function ensureDurableConsumer(
  jsm: JetStreamManager,
  stream: string,
  options: EnsureDurableConsumerOptions,
): Promise<ConsumerInfo> {
  const backoff = options.backoffMs?.map(nanos);
  if (backoff && backoff.length > 0 && options.maxDeliver !== -1 && options.maxDeliver <= backoff.length) {
    throw new Error(`consumer ${options.name}: maxDeliver must be greater than the number of backoff steps`);
  }
  const wanted: ConsumerUpdateConfig = {
    ack_wait: nanos(options.ackWaitMs),
    max_deliver: options.maxDeliver,
    backoff: backoff && backoff.length > 0 ? backoff : undefined,
    ...(options.maxAckPending === undefined ? {} : { max_ack_pending: options.maxAckPending }),
    ...filterConfig(options.filterSubjects),
  };

  let info: ConsumerInfo | null = null;
  try {
    info = await jsm.consumers.info(stream, options.name);
  } catch (err) {
    if (!isApiError(err, JetStreamApiCodes.ConsumerNotFound)) throw err;
  }
  if (!info) {
    return jsm.consumers.add(stream, {
      ...wanted,
      durable_name: options.name,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: options.deliverPolicy === "new" ? DeliverPolicy.New : DeliverPolicy.All,
    });
  }
  const c = info.config;
  if (c.ack_policy !== AckPolicy.Explicit) {
    throw new Error(`consumer ${options.name} on ${stream} exists with ack policy ${c.ack_policy}, not explicit`);
  }
  if (c.deliver_subject) throw new Error(`consumer ${options.name} on ${stream} is a push consumer`);
  const upToDate =
    c.ack_wait === wanted.ack_wait &&
    c.max_deliver === wanted.max_deliver &&
    sameSequence(c.backoff ?? [], backoff ?? []) &&
    (wanted.max_ack_pending === undefined || c.max_ack_pending === wanted.max_ack_pending) &&
    sameSet(currentFilters(c), options.filterSubjects ?? []);
  if (upToDate) return info;
  return jsm.consumers.update(stream, options.name, wanted);
}

function sameSequence(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
