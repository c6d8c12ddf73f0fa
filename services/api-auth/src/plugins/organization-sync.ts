import {
  isOrganizationEvent,
  ORGANIZATION_STREAM,
  organizationSubjects,
  type RunningConsumer,
  startConsumer,
} from "@ipaas/events";
import type { FastifyInstance } from "fastify";
import fp from "fastify-plugin";
import { OrganizationSync } from "../domain/organization-sync";

declare module "fastify" {
  interface FastifyInstance {
    /** Applies the organization events (rotation, update, deletion) to this instance's client cache. */
    organizationSync: OrganizationSync;
  }
}

/**
 * `app.organizationSync`: once the app is ready, an ephemeral JetStream consumer of this instance's own
 * reads the organization stream from "now" on, so every api-auth instance sees every event and drops its
 * cached view of the organization concerned. After every (re)connect of the NATS link the whole cache is
 * cleared, since events may have gone by while there was no consumer; CLIENT_CACHE_TTL_SECONDS bounds
 * staleness in any case. Nothing here writes to the database, so no `applyOnce` (see the README).
 */
export const organizationSyncPlugin = fp(
  async (app: FastifyInstance) => {
    const logger = app.log.child({ component: "organization-sync" });
    const sync = new OrganizationSync(app.clients, logger);
    app.decorate("organizationSync", sync);

    let consumer: RunningConsumer | null = null;
    let stopResync: (() => void) | null = null;

    // Started on ready rather than at registration, so no event is handled by a half-built app.
    app.addHook("onReady", async () => {
      stopResync = app.eventLink.onConnect(() => sync.resync("nats connected"));
      consumer = startConsumer({
        link: app.eventLink,
        stream: ORGANIZATION_STREAM.name,
        // Ephemeral (no durable name): one consumer per instance, so each instance gets every event.
        start: "new",
        filterSubjects: [organizationSubjects()],
        logger,
        handler: async (event, context) => {
          if (isOrganizationEvent(event)) sync.apply(event, context);
        },
      });
    });

    // onClose hooks run in reverse order of registration, so this one runs before the events plugin drains
    // the link: the ephemeral consumer is deleted from the server rather than left to time out.
    app.addHook("onClose", async () => {
      stopResync?.();
      await consumer?.stop();
    });
  },
  { name: "organization-sync", dependencies: ["events", "client-cache"] },
);
