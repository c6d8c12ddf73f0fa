import { requestOrigin, writeAudit } from "@ipaas/domain";
import type { FastifyInstance, FastifyRequest, onRequestAsyncHookHandler } from "fastify";
import fp from "fastify-plugin";
import { fail } from "../errors";
import { type Action, type Actor, can, isPlatformOwner } from "./access";

declare module "fastify" {
  interface FastifyInstance {
    /** Hook for a route that needs `action` on `module`: authenticates, then checks current permissions. */
    authorize(module: string, action: Action): onRequestAsyncHookHandler;
  }
}

export const accessPlugin = fp(
  async (app: FastifyInstance) => {
    app.decorate("authorize", (module: string, action: Action): onRequestAsyncHookHandler => {
      return async function authorize(request: FastifyRequest) {
        // The actor is read with the session on every request, not taken from the token: a revocation
        // applies to the very next request.
        await app.authenticateActor(request);
        const actor = actorOf(request);
        if (!can(actor, module, action)) {
          await writeAudit(
            app.db,
            {
              action: "authz.denied",
              outcome: "failure",
              actorType: "user",
              actorId: actor.userId,
              tenantId: actor.tenant.id,
              details: { module, action, route: request.routeOptions.url ?? null },
            },
            requestOrigin(request),
          );
          throw fail("FORBIDDEN", `you may not ${action} ${module}`);
        }
      };
    });
  },
  { name: "access", dependencies: ["identity"] },
);

export function actorOf(request: FastifyRequest): Actor {
  if (!request.actor) throw fail("UNAUTHENTICATED");
  return request.actor;
}

/** The actor of a route only the platform owner may use; anyone else is refused with 403 saying `what`. */
export function platformOwnerOf(request: FastifyRequest, what: string): Actor {
  const actor = actorOf(request);
  if (!isPlatformOwner(actor)) throw fail("FORBIDDEN", `only the platform owner ${what}`);
  return actor;
}
