import { startConsumer } from "./consumer";
import type { DomainEvent } from "./contracts";
import { describeError, type EventsLogger, type Sleep, sleep } from "./logger";
import type { EventLink } from "./transport";

export interface StreamFollowerOptions {
  link: EventLink;
  stream: string;
  filterSubjects: string[];
  logger: EventsLogger;
  /** Applies one event to the in-memory view. Must not throw for an event it has nothing to do with. */
  apply: (event: DomainEvent) => void;
  /**
   * Brings the view level with the database. Called whenever events may have gone by unseen: once the
   * consumer first receives, and after every reconnect. Events keep arriving meanwhile, so it must not
   * discard what `apply` adds while it runs.
   */
  rebuild: () => Promise<void>;
  /** Wait before trying a failed rebuild again. Default 1 000 ms. */
  retryMs?: number;
  /**
   * Whether this instance can reach the database right now. While it cannot, the view is not trusted, so
   * the caller reads the database and fails closed, as it would without a view.
   */
  databaseLinked: () => boolean;
}

/**
 * Keeps an in-memory view of one instance true by the events of a stream, and says when the view may be
 * trusted (`live`): the instance's own consumer receives, the link to NATS is up, the instance reaches the
 * database, and the view was rebuilt from the database since the last moment events could have been missed. A caller answers from memory only
 * while `live`, and from the database otherwise.
 *
 * The order matters: the consumer exists on the server before the rebuild reads the database, so every
 * change is either in what the rebuild reads or in an event that follows it.
 */
export class StreamFollower {
  #consuming = false;
  /** Bumped each time the view needs a rebuild; `#rebuilt` is the epoch the last completed rebuild served. */
  #epoch = 0;
  #rebuilt = -1;
  /** The link's connection count when the last completed rebuild started. */
  #rebuiltOnConnect = -1;
  #running: Promise<void> | null = null;
  #wait: Sleep | null = null;
  #stopped = false;
  readonly #stopConsumer: () => Promise<void>;
  readonly #stopReconnects: () => void;

  constructor(private readonly options: StreamFollowerOptions) {
    const consumer = startConsumer({
      link: options.link,
      stream: options.stream,
      // Ephemeral: each instance sees every event.
      start: "new",
      filterSubjects: options.filterSubjects,
      logger: options.logger,
      handler: async (event) => options.apply(event),
      onConsuming: () => {
        this.#consuming = true;
        this.#requestRebuild();
      },
      onInterrupted: () => {
        this.#consuming = false;
      },
    });
    this.#stopConsumer = () => consumer.stop();
    // While the client reconnects, the server keeps the consumer's messages; the view is rebuilt anyway,
    // since a consumer left alone too long is replaced and may not resume exactly where it was.
    this.#stopReconnects = options.link.onConnect(() => this.#requestRebuild());
  }

  /** Whether the view may answer: see the class comment. */
  get live(): boolean {
    return (
      this.#consuming &&
      this.#rebuilt === this.#epoch &&
      // A reconnect is a gap, whether or not its onConnect hook has asked for a rebuild yet.
      this.#rebuiltOnConnect === this.options.link.connects &&
      this.options.link.isConnected() &&
      this.options.databaseLinked()
    );
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#stopReconnects();
    this.#wait?.cancel();
    await this.#running;
    await this.#stopConsumer();
  }

  #requestRebuild(): void {
    this.#epoch += 1;
    if (this.#consuming && !this.#running) {
      this.#running = this.#rebuildUntilCurrent().finally(() => {
        this.#running = null;
      });
    }
  }

  async #rebuildUntilCurrent(): Promise<void> {
    while (!this.#stopped && this.#consuming && this.#rebuilt !== this.#epoch) {
      const epoch = this.#epoch;
      const connects = this.options.link.connects;
      try {
        await this.options.rebuild();
        this.#rebuilt = epoch;
        this.#rebuiltOnConnect = connects;
        this.options.logger.info({ stream: this.options.stream }, "in-memory view rebuilt from the database");
      } catch (error) {
        this.options.logger.warn(
          { stream: this.options.stream, err: describeError(error) },
          "in-memory view could not be rebuilt; answering from the database until it is",
        );
        this.#wait = sleep(this.options.retryMs ?? 1_000);
        await this.#wait.promise;
        this.#wait = null;
      }
    }
  }
}
