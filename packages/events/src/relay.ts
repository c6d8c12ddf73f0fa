import { type Db, Prisma, type Tx } from "@ipaas/db";
import type { PubAck } from "@nats-io/jetstream";
import { headers } from "@nats-io/transport-node";
import { EVENT_TYPE_HEADER } from "./contracts";
import { backoffMs, describeError, type EventsLogger, type Sleep, silentLogger, sleep } from "./logger";
import type { NatsLink } from "./nats-link";

/** An outbox row as the relay sees it. */
export interface OutboxRow {
  id: string;
  subject: string;
  type: string;
  payload: unknown;
  attempts: number;
}

export interface OutboxRelayOptions {
  db: Db;
  link: NatsLink;
  logger?: EventsLogger;
  /** Rows claimed per transaction. Default 100. */
  batchSize?: number;
  /** How often the background loop looks for pending rows when nothing kicks it. Default 250 ms. */
  pollIntervalMs?: number;
  /** Longest wait between attempts after a failure. Default 30 000 ms. */
  maxBackoffMs?: number;
  /** How long one publish waits for its PubAck. Default 5 000 ms. */
  publishTimeoutMs?: number;
  /** Longest a claiming transaction stays open. Default 30 000 ms. */
  transactionTimeoutMs?: number;
  /**
   * Only relay rows whose subject starts with `<subjectPrefix>.`; every row when unset. Lets relays for
   * different prefixes share one outbox table (tests do this).
   */
  subjectPrefix?: string;
  /**
   * Called after a row's PubAck and before it is marked published. If it throws, the claiming transaction
   * rolls back as if the process had died at that point: the rows stay pending and are published again
   * later (JetStream drops the duplicate). For tests.
   */
  afterPublish?: (row: OutboxRow, ack: PubAck) => void | Promise<void>;
}

interface BatchResult {
  published: number;
  claimed: number;
  failed: boolean;
}

/**
 * Publishes the transactional outbox to JetStream. Rows are claimed oldest first with
 * `FOR UPDATE SKIP LOCKED`, so any number of relays (one per service instance) can run against one
 * database without publishing a row concurrently. A row is marked published only after its PubAck.
 */
export class OutboxRelay {
  private readonly logger: EventsLogger;
  private readonly batchSize: number;
  private readonly pollIntervalMs: number;
  private readonly maxBackoffMs: number;
  private readonly publishTimeoutMs: number;
  private readonly transactionTimeoutMs: number;
  private running = false;
  private loop: Promise<void> | null = null;
  private wait: Sleep | null = null;
  private kicked = false;
  /** Consecutive failed batches; non-zero means the loop is backing off. */
  private failures = 0;
  /** The batch in progress (loop or drainOnce): batches of one relay never overlap. */
  private current: Promise<BatchResult> | null = null;
  private unsubscribe: (() => void) | null = null;

  constructor(private readonly options: OutboxRelayOptions) {
    this.logger = options.logger ?? silentLogger;
    this.batchSize = options.batchSize ?? 100;
    this.pollIntervalMs = options.pollIntervalMs ?? 250;
    this.maxBackoffMs = options.maxBackoffMs ?? 30_000;
    this.publishTimeoutMs = options.publishTimeoutMs ?? 5_000;
    this.transactionTimeoutMs = options.transactionTimeoutMs ?? 30_000;
    if (this.batchSize < 1) throw new Error("batchSize must be at least 1");
  }

  /** Starts the background loop. Publishing resumes by itself whenever NATS (re)connects. */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.unsubscribe = this.options.link.onConnect(() => {
      // NATS is back: stop backing off and publish what piled up.
      this.failures = 0;
      this.kick();
    });
    this.loop = this.run();
  }

  /** Stops the loop, waiting for a batch in flight to finish. */
  async stop(): Promise<void> {
    this.running = false;
    this.unsubscribe?.();
    this.unsubscribe = null;
    this.wait?.cancel();
    await this.loop;
    this.loop = null;
    await this.current?.catch(() => undefined);
  }

  /** Asks the loop to look for pending rows soon (e.g. right after a commit that appended an event). */
  kick(): void {
    this.kicked = true;
    // While backing off after a failure, a kick does not cut the wait short: every commit would retry.
    if (this.failures === 0) this.wait?.cancel();
  }

  /**
   * Publishes pending rows now, batch after batch, until none is left or a publish fails. Returns how
   * many were published. Rejects when the database fails (or when afterPublish throws).
   */
  async drainOnce(): Promise<number> {
    let total = 0;
    for (;;) {
      const result = await this.batch();
      total += result.published;
      if (result.failed || result.claimed < this.batchSize) return total;
    }
  }

  private async run(): Promise<void> {
    while (this.running) {
      let delay = this.pollIntervalMs;
      try {
        const result = await this.batch();
        if (result.failed) {
          this.failures++;
          delay = backoffMs(this.failures, this.pollIntervalMs, this.maxBackoffMs);
        } else {
          this.failures = 0;
          if (result.claimed === this.batchSize) delay = 0;
        }
      } catch (err) {
        this.failures++;
        delay = backoffMs(this.failures, this.pollIntervalMs, this.maxBackoffMs);
        this.logger.error({ err: describeError(err), retryInMs: delay }, "outbox relay batch failed");
      }
      if (!this.running) break;
      if (this.kicked && this.failures === 0) delay = 0;
      this.kicked = false;
      if (delay > 0) {
        this.wait = sleep(delay);
        await this.wait.promise;
        this.wait = null;
      }
    }
  }

  /** Runs one batch, after the one in flight (if any) has finished. */
  private async batch(): Promise<BatchResult> {
    while (this.current) await this.current.catch(() => undefined);
    const p = this.publishBatch();
    this.current = p;
    try {
      return await p;
    } finally {
      if (this.current === p) this.current = null;
    }
  }

  private async publishBatch(): Promise<BatchResult> {
    const { db, link } = this.options;
    const startedAt = Date.now();
    // Stop claiming more work once a further publish could outlive the transaction.
    const budgetMs = Math.max(this.transactionTimeoutMs - this.publishTimeoutMs - 1_000, 1_000);
    return db.$transaction(
      async (tx) => {
        const rows = await this.claim(tx);
        let published = 0;
        for (const row of rows) {
          if (Date.now() - startedAt > budgetMs) break;
          let ack: PubAck;
          try {
            ack = await this.publish(link, row);
          } catch (err) {
            const lastError = describeError(err, 200);
            await tx.outboxEvent.update({
              where: { id: row.id },
              data: { attempts: { increment: 1 }, lastError },
            });
            this.logger.warn(
              { outboxId: row.id, type: row.type, attempts: row.attempts + 1, err: lastError },
              "outbox publish failed; will retry",
            );
            return { published, claimed: rows.length, failed: true };
          }
          await this.options.afterPublish?.(row, ack);
          await tx.outboxEvent.update({
            where: { id: row.id },
            data: { publishedAt: new Date(), lastError: null },
          });
          published++;
        }
        return { published, claimed: rows.length, failed: false };
      },
      { maxWait: 5_000, timeout: this.transactionTimeoutMs },
    );
  }

  private async claim(tx: Tx): Promise<OutboxRow[]> {
    const prefix = this.options.subjectPrefix;
    const onlyPrefix = prefix === undefined ? Prisma.empty : Prisma.sql`AND starts_with("subject", ${`${prefix}.`})`;
    return tx.$queryRaw<OutboxRow[]>`
      SELECT "id", "subject", "type", "payload", "attempts"
      FROM "outbox_events"
      WHERE "publishedAt" IS NULL ${onlyPrefix}
      ORDER BY "createdAt", "id"
      LIMIT ${this.batchSize}
      FOR UPDATE SKIP LOCKED`;
  }

  private async publish(link: NatsLink, row: OutboxRow): Promise<PubAck> {
    // Throws at once when NATS is down, rather than waiting out the ack timeout with the rows locked.
    const js = link.jetstream();
    const h = headers();
    h.set(EVENT_TYPE_HEADER, row.type);
    return js.publish(row.subject, new TextEncoder().encode(JSON.stringify(row.payload)), {
      msgID: row.id,
      headers: h,
      timeout: this.publishTimeoutMs,
    });
  }
}
