import { type Db, Prisma, type Tx } from "@ipaas/db";
import { EVENT_TYPE_HEADER } from "./contracts";
import { backoffMs, describeError, type EventsLogger, type Sleep, silentLogger, sleep } from "./logger";
import type { EventLink } from "./transport";

/** An outbox row as the relay sees it. */
export interface OutboxRow {
  id: string;
  subject: string;
  type: string;
  payload: unknown;
  /** Failed attempts that were the row's own fault (see `maxAttempts`); NATS outages do not count. */
  attempts: number;
  createdAt: Date;
}

/** What a relay reports as it works. */
export interface RelayObserver {
  /**
   * A row NATS acknowledged, called before it is marked published, inside the claiming transaction. If
   * this throws, the transaction rolls back as if the process had died at that point: the rows stay
   * pending and are published again later (JetStream drops the duplicate).
   */
  published?(row: OutboxRow, ack: { seq: number; duplicate: boolean }): void | Promise<void>;
  /** A row this relay set aside for good. */
  parked?(row: ParkedRow): void;
}

/** What the relay tells its observer (and the log) about a row it set aside. Never the payload. */
export interface ParkedRow {
  id: string;
  subject: string;
  type: string;
  attempts: number;
  lastError: string | null;
}

export interface OutboxRelayOptions {
  db: Db;
  link: EventLink;
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
   * A row NATS refused this many times is parked: `parkedAt` is set and the relay never claims it again.
   * Only refusals that are the row's own count: NATS answered and refused this message, and a later
   * publish on the same link in the same pass worked (see `OutboxRelay`). Default 10.
   */
  maxAttempts?: number;
  /** Told what the relay does: the service counts it in its metrics, a test watches (or stops) it. */
  observer?: RelayObserver;
}

interface BatchResult {
  published: number;
  claimed: number;
  /** NATS could not be reached (or did not answer in time): the pass ends and the relay backs off. */
  unreachable: boolean;
}

/**
 * One walk over the backlog, oldest row first, batch after batch. A refused row does not stop it: the
 * next batch starts after the last row tried, so no number of refused rows can hold back the rows behind.
 */
interface Pass {
  after: { createdAt: Date; id: string } | null;
  /**
   * Rows NATS refused in this pass that no later publish has yet shown to be at fault themselves. Those
   * left at the end of the pass are retried in the next one, uncounted.
   */
  refused: OutboxRow[];
  /** Refused rows followed by a publish that worked: their refusal counts toward parking. */
  confirmed: OutboxRow[];
}

function newPass(): Pass {
  return { after: null, refused: [], confirmed: [] };
}

/**
 * Publishes the transactional outbox to JetStream. Rows are claimed oldest first with
 * `FOR UPDATE SKIP LOCKED`, so any number of relays (one per service instance) can run against one
 * database without publishing a row concurrently. A row is marked published only after its PubAck.
 *
 * Two kinds of failure, told apart because a NATS outage must never cost a good row anything:
 * - NATS unreachable (not connected, no ack in time): every row would fail, so the batch stops, the row
 *   records `lastError`, `attempts` is untouched, and the relay backs off until NATS is back.
 * - NATS refused the row (no stream captures its subject, the stream rejected it, invalid subject or
 *   size): the relay records `lastError` and goes on with the rows behind it. The refusal counts toward
 *   `maxAttempts` only once a later publish in the same pass has worked, which proves that the link and
 *   the stream are fine and the row is the problem; if NATS refuses every row (say the stream was deleted)
 *   nothing is counted. At `maxAttempts` the row is parked and an `alert: "outbox_row_parked"` error is
 *   logged.
 */
export class OutboxRelay {
  private readonly logger: EventsLogger;
  private readonly batchSize: number;
  private readonly pollIntervalMs: number;
  private readonly maxBackoffMs: number;
  private readonly publishTimeoutMs: number;
  private readonly transactionTimeoutMs: number;
  private readonly maxAttempts: number;
  private parked = 0;
  private running = false;
  private loop: Promise<void> | null = null;
  private wait: Sleep | null = null;
  private kicked = false;
  /** Consecutive failed batches; non-zero means the loop is backing off. */
  private failures = 0;
  /**
   * Consecutive passes that left refused rows uncounted. The loop backs off on these too (NATS may be
   * refusing everything), but a kick still cuts the wait short: NATS answers, and a new row both goes
   * out at once and shows whether the refused ones are at fault.
   */
  private refusals = 0;
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
    this.maxAttempts = options.maxAttempts ?? 10;
    if (this.batchSize < 1) throw new Error("batchSize must be at least 1");
    if (this.maxAttempts < 1) throw new Error("maxAttempts must be at least 1");
  }

  /** How many rows this relay has parked since it was created (for metrics). */
  get parkedCount(): number {
    return this.parked;
  }

  /** Starts the background loop. Publishing resumes by itself whenever NATS (re)connects. */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.unsubscribe = this.options.link.onConnect(() => {
      // NATS is back: stop backing off and publish what piled up.
      this.failures = 0;
      this.refusals = 0;
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
   * Publishes pending rows now: one pass over the backlog, batch after batch, until its end or until NATS
   * cannot be reached. Rows NATS refuses are passed over (and parked at `maxAttempts`). Returns how many
   * were published. Rejects when the database fails (or when the observer throws).
   */
  async drainOnce(): Promise<number> {
    const pass = newPass();
    let total = 0;
    for (;;) {
      const result = await this.batch(pass);
      total += result.published;
      if (result.unreachable || result.claimed < this.batchSize) return total;
    }
  }

  private async run(): Promise<void> {
    let pass = newPass();
    while (this.running) {
      let delay = this.pollIntervalMs;
      try {
        const result = await this.batch(pass);
        if (result.unreachable) {
          this.failures++;
          delay = backoffMs(this.failures, this.pollIntervalMs, this.maxBackoffMs);
          pass = newPass();
        } else if (result.claimed === this.batchSize) {
          // More rows in this pass.
          this.failures = 0;
          delay = 0;
        } else {
          this.failures = 0;
          this.refusals = pass.refused.length > 0 ? this.refusals + 1 : 0;
          if (this.refusals > 0) delay = backoffMs(this.refusals, this.pollIntervalMs, this.maxBackoffMs);
          pass = newPass();
        }
      } catch (err) {
        this.failures++;
        delay = backoffMs(this.failures, this.pollIntervalMs, this.maxBackoffMs);
        this.logger.error({ err: describeError(err), retryInMs: delay }, "outbox relay batch failed");
        pass = newPass();
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

  /** Runs one batch of `pass`, after the one in flight (if any) has finished. */
  private async batch(pass: Pass): Promise<BatchResult> {
    while (this.current) await this.current.catch(() => undefined);
    const p = this.publishBatch(pass).then(async (result) => {
      await this.countRefusals(pass.confirmed.splice(0));
      return result;
    });
    this.current = p;
    try {
      return await p;
    } finally {
      if (this.current === p) this.current = null;
    }
  }

  private async publishBatch(pass: Pass): Promise<BatchResult> {
    const { db, link } = this.options;
    const startedAt = Date.now();
    // Stop claiming more work once a further publish could outlive the transaction.
    const budgetMs = Math.max(this.transactionTimeoutMs - this.publishTimeoutMs - 1_000, 1_000);
    return db.$transaction(
      async (tx) => {
        const rows = await this.claim(tx, pass.after);
        let published = 0;
        const refusedHere: Array<{ row: OutboxRow; lastError: string }> = [];
        try {
          for (const row of rows) {
            if (Date.now() - startedAt > budgetMs) break;
            let ack: { seq: number; duplicate: boolean };
            try {
              ack = await this.publish(link, row);
            } catch (err) {
              const lastError = link.describePublishError(err);
              await tx.outboxEvent.update({ where: { id: row.id }, data: { lastError } });
              if (!link.isConnected() || !link.refusedMessage(err)) {
                this.logger.warn(
                  { outboxId: row.id, type: row.type, err: lastError },
                  "outbox publish failed: NATS unreachable or not answering; will retry",
                );
                return { published, claimed: rows.length, unreachable: true };
              }
              refusedHere.push({ row, lastError });
              pass.refused.push(row);
              pass.after = row;
              continue;
            }
            await this.options.observer?.published?.(row, ack);
            await tx.outboxEvent.update({
              where: { id: row.id },
              data: { publishedAt: new Date(), lastError: null },
            });
            published++;
            pass.after = row;
            // This publish worked, so the rows refused before it in this pass were refused for themselves.
            pass.confirmed.push(...pass.refused.splice(0));
          }
          return { published, claimed: rows.length, unreachable: false };
        } finally {
          // One line per batch, not per row: if NATS refuses everything, a line per row would flood the log.
          const [first] = refusedHere;
          if (first)
            this.logger.warn(
              {
                refused: refusedHere.length,
                outboxIds: refusedHere.slice(0, 10).map((r) => r.row.id),
                type: first.row.type,
                err: first.lastError,
              },
              "NATS refused outbox rows; passing over them and retrying later",
            );
        }
      },
      { maxWait: 5_000, timeout: this.transactionTimeoutMs },
    );
  }

  /**
   * Counts one attempt against each row whose refusal is proven its own, and parks those that reach
   * `maxAttempts`. A row another relay has published or parked meanwhile is left alone.
   */
  private async countRefusals(rows: OutboxRow[]): Promise<void> {
    if (rows.length === 0) return;
    const counted = await this.options.db.$queryRaw<Array<ParkedRow & { parkedAt: Date | null }>>`
      UPDATE "outbox_events"
      SET "attempts" = "attempts" + 1,
          "parkedAt" = CASE WHEN "attempts" + 1 >= ${this.maxAttempts}::int THEN now() END
      WHERE "id" IN (${Prisma.join(rows.map((r) => r.id))}) AND "publishedAt" IS NULL AND "parkedAt" IS NULL
      RETURNING "id", "subject", "type", "attempts", "lastError", "parkedAt"`;
    for (const { parkedAt, ...row } of counted) {
      if (parkedAt === null) continue;
      this.parked++;
      this.logger.error(
        {
          alert: "outbox_row_parked",
          outboxId: row.id,
          type: row.type,
          subject: row.subject,
          attempts: row.attempts,
          err: row.lastError,
        },
        "outbox row parked: NATS refused it while publishing other rows; it will not be retried",
      );
      this.options.observer?.parked?.(row);
    }
  }

  private async claim(tx: Tx, after: Pass["after"]): Promise<OutboxRow[]> {
    const prefix = this.options.subjectPrefix;
    const onlyPrefix = prefix === undefined ? Prisma.empty : Prisma.sql`AND starts_with("subject", ${`${prefix}.`})`;
    const afterCursor =
      after === null
        ? Prisma.empty
        : Prisma.sql`AND ("createdAt", "id") > (${after.createdAt}::timestamptz, ${after.id})`;
    return tx.$queryRaw<OutboxRow[]>`
      SELECT "id", "subject", "type", "payload", "attempts", "createdAt"
      FROM "outbox_events"
      WHERE "publishedAt" IS NULL AND "parkedAt" IS NULL ${onlyPrefix} ${afterCursor}
      ORDER BY "createdAt", "id"
      LIMIT ${this.batchSize}
      FOR UPDATE SKIP LOCKED`;
  }

  private publish(link: EventLink, row: OutboxRow): Promise<{ seq: number; duplicate: boolean }> {
    return link.publish(row.subject, new TextEncoder().encode(JSON.stringify(row.payload)), {
      msgId: row.id,
      headers: { [EVENT_TYPE_HEADER]: row.type },
      timeoutMs: this.publishTimeoutMs,
    });
  }
}
