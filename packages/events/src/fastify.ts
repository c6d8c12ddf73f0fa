import { listen } from "@ipaas/db";
import type {} from "@ipaas/service-kit";
import type { FastifyInstance } from "fastify";
import fp from "fastify-plugin";
import { alertOnGiveUps } from "./consumer";
import { DEFAULT_SUBJECT_PREFIX, type StreamDefinition } from "./contracts";
import { NatsLink } from "./nats-link";
import { OutboxRelay } from "./relay";
import type { EventLink } from "./transport";

declare module "fastify" {
  interface FastifyInstance {
    /** JetStream over NATS, or the in-process bus of the embedded development mode. */
    eventLink: EventLink;
    /** Present in services that write events: publishes the outbox to JetStream. */
    outboxRelay?: OutboxRelay;
    /**
     * Whether this instance holds its notification connection to Postgres right now. What is kept in
     * memory on the strength of events is trusted only while it does (see StreamFollower).
     */
    databaseLinked(): boolean;
  }
}

/** The channel the outbox insert trigger notifies (migration `outbox_notify`). */
const OUTBOX_CHANNEL = "ipaas_outbox";
/** With notifications, the relay looks for rows by itself only this often. */
const SAFETY_POLL_MS = 5_000;

export interface EventsPluginOptions {
  /** The NATS servers (NATS_URL), or a transport of the caller's (the embedded mode's in-process bus). */
  transport: string | EventLink;
  /** Client name shown by the NATS server: the service's name. */
  name: string;
  /** Run the outbox relay in this service. */
  relay: boolean;
  subjectPrefix?: string;
  /** The streams this service publishes to or consumes from; each is ensured after every connect. */
  streams: readonly StreamDefinition[];
}

/**
 * A service's event transport as `app.eventLink`: a link to NATS connects in the background (the service
 * boots and reports "not ready" while NATS is down). Makes sure the caller's streams exist after every
 * connect, reports the link in readiness ("nats", or "events" for a transport of the caller's), logs an
 * `alert: "event_dead_lettered"` error for each message a consumer of those streams gives up on (see
 * alertOnGiveUps; counted in `events_dead_lettered_total`), optionally runs the outbox relay (counting published and parked rows in
 * `outbox_rows_published_total` and `outbox_rows_parked_total`), listens for the outbox's
 * notifications on a Postgres connection of its own (which also tells `databaseLinked`), and drains on close.
 */
export const eventsPlugin = fp(
  async (app: FastifyInstance, options: EventsPluginOptions) => {
    const subjectPrefix = options.subjectPrefix ?? DEFAULT_SUBJECT_PREFIX;
    const logger = app.log.child({ component: "events" });
    const link =
      typeof options.transport === "string"
        ? new NatsLink({ servers: options.transport, name: options.name, logger })
        : options.transport;
    link.onConnect(async () => {
      for (const stream of options.streams) {
        await link.ensureStream({
          name: stream.name,
          subjects: stream.subjects(subjectPrefix),
          ...(stream.retention ? { retention: stream.retention } : {}),
          ...(stream.maxAgeMs ? { maxAgeMs: stream.maxAgeMs } : {}),
        });
      }
    });
    const deadLettered = app.metrics.counter(
      "events_dead_lettered_total",
      "Events a consumer gave up on (its delivery limit, or terminated as poison); alert on any increase",
    );
    const stopAlerts = alertOnGiveUps(
      link,
      options.streams.map((stream) => stream.name),
      logger,
      () => deadLettered.inc(),
    );
    link.start();
    app.decorate("eventLink", link);
    // Readiness is public: a fixed phrase, never the server's address or the error (the link logs those).
    app.readiness.add(link instanceof NatsLink ? "nats" : "events", () => {
      const { ok } = link.status();
      return { ok, detail: ok ? "connected" : "unreachable" };
    });

    let relay: OutboxRelay | null = null;
    if (options.relay) {
      const parked = app.metrics.counter(
        "outbox_rows_parked_total",
        "Outbox rows set aside because NATS refused them while publishing others (alert on any increase)",
      );
      const published = app.metrics.counter("outbox_rows_published_total", "Outbox rows NATS acknowledged");
      relay = new OutboxRelay({
        db: app.db,
        link,
        logger,
        subjectPrefix,
        // The outbox insert's notification wakes the relay (any service's commit, any instance); the poll
        // is only the safety net for a notification lost while the listening connection was down.
        pollIntervalMs: SAFETY_POLL_MS,
        observer: { published: () => published.inc(), parked: () => parked.inc() },
      });
      app.decorate("outboxRelay", relay);
    }
    let linked = false;
    app.decorate("databaseLinked", () => linked);
    const stopListening = await listen(
      app.db,
      OUTBOX_CHANNEL,
      () => relay?.kick(),
      (error) => {
        linked = false;
        logger.warn({ err: error }, "outbox notifications interrupted; polling until they are back");
      },
      () => {
        linked = true;
      },
    );
    relay?.start();
    app.addHook("onClose", async () => {
      await stopListening();
      await relay?.stop();
    });
    app.addHook("onClose", async () => {
      stopAlerts();
      await link.close();
    });
  },
  { name: "events", dependencies: ["health", "metrics", "database"] },
);
