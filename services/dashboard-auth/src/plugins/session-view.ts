import { ACCESS_STREAM, DEFAULT_SUBJECT_PREFIX, StreamFollower } from "@ipaas/events";
import type { FastifyInstance } from "fastify";
import fp from "fastify-plugin";
import type { DashboardConfig } from "../config";
import { SessionView } from "../features/sessions/session-view";

declare module "fastify" {
  interface FastifyInstance {
    /** What this instance remembers of sessions between requests, kept true by `access.changed` events. */
    sessionView: SessionView;
  }
}

/**
 * `app.sessionView`, and the consumer that keeps it true: every `access.changed` event (written by the
 * database with each change to a session, user or tenant that authentication checks) drops what it names,
 * and the view is cleared whenever events may have been missed. Until the events flow the view holds
 * nothing and every request reads the database.
 */
export const sessionViewPlugin = fp(
  async (app: FastifyInstance, { config }: { config: DashboardConfig }) => {
    let follower: StreamFollower | null = null;
    const view = new SessionView({
      ttlMs: config.SESSION_VIEW_TTL_SECONDS * 1000,
      maxEntries: config.SESSION_VIEW_MAX_ENTRIES,
      live: () => follower?.live ?? false,
    });
    app.decorate("sessionView", view);

    // Started on ready rather than at registration, so no event is handled by a half-built app.
    app.addHook("onReady", async () => {
      follower = new StreamFollower({
        link: app.eventLink,
        databaseLinked: () => app.databaseLinked(),
        stream: ACCESS_STREAM.name,
        filterSubjects: [`${DEFAULT_SUBJECT_PREFIX}.access.>`],
        logger: app.log.child({ component: "session-view" }),
        apply: (event) => {
          if (event.type !== "access.changed") return;
          if (event.data.userId === null) view.dropTenant(event.data.tenantId);
          else view.dropUser(event.data.userId);
        },
        rebuild: async () => view.clear(),
      });
    });
    // Runs before the events plugin drains the link (onClose hooks run in reverse order of registration).
    app.addHook("onClose", async () => {
      await follower?.stop();
    });
  },
  { name: "session-view", dependencies: ["events"] },
);
