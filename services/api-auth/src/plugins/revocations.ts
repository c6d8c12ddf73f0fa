import { ACCESS_STREAM, DEFAULT_SUBJECT_PREFIX, StreamFollower } from "@ipaas/events";
import type { FastifyInstance } from "fastify";
import fp from "fastify-plugin";
import { Revocations, RevokedSet } from "../domain/revocations";

declare module "fastify" {
  interface FastifyInstance {
    /** Records revocations and answers whether a token is revoked, from memory while the events flow. */
    revocations: Revocations;
  }
}

const PRUNE_EVERY_MS = 60_000;

/**
 * `app.revocations`: this instance's set of revoked token ids, kept true by the `token.revoked` events of
 * every instance and rebuilt from the database whenever events may have been missed. Until the set is
 * live (see StreamFollower) every check reads the database instead.
 */
export const revocationsPlugin = fp(
  async (app: FastifyInstance) => {
    const set = new RevokedSet();
    let follower: StreamFollower | null = null;
    const revocations = new Revocations(app.db, set, () => follower?.live ?? false);
    app.decorate("revocations", revocations);

    let timer: NodeJS.Timeout | undefined;
    // Started on ready rather than at registration, so no event is handled by a half-built app.
    app.addHook("onReady", async () => {
      follower = new StreamFollower({
        link: app.eventLink,
        databaseLinked: () => app.databaseLinked(),
        stream: ACCESS_STREAM.name,
        filterSubjects: [`${DEFAULT_SUBJECT_PREFIX}.token.>`],
        logger: app.log.child({ component: "revocations" }),
        apply: (event) => {
          if (event.type === "token.revoked") set.add(event.data.jti, new Date(event.data.expiresAt));
        },
        rebuild: () => revocations.rebuild(),
      });
      timer = setInterval(() => set.prune(), PRUNE_EVERY_MS);
      timer.unref();
    });
    // Runs before the events plugin drains the link (onClose hooks run in reverse order of registration).
    app.addHook("onClose", async () => {
      clearInterval(timer);
      await follower?.stop();
    });
  },
  { name: "revocations", dependencies: ["database", "events"] },
);
