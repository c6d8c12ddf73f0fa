import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import type { FastifyInstance } from "fastify";
import { endUserOf } from "../../plugins/profiles";
import {
  beginContactChangeRoute,
  confirmContactChangeRoute,
  eraseRoute,
  getProfileRoute,
  signOutRoute,
  updateProfileRoute,
} from "../../schemas/users";

/**
 * The person's own profile, called from their device with their user token. Never cached. A browser app
 * may call it from an origin the caller's organization lists (`appOrigins`): a preflight is answered for
 * any active organization's origin (it carries no token), the request itself only for the caller's own.
 */
export async function userRoutes(fastify: FastifyInstance) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  app.addHook("onSend", async (request, reply) => {
    reply.header("cache-control", "no-store");
    const origin = request.headers.origin;
    if (typeof origin !== "string" || request.method === "OPTIONS") return;
    reply.header("vary", "Origin");
    const caller = request.endUser;
    if (caller && (await app.appOrigins.organizationAllows(caller.organizationId, origin))) {
      reply.header("access-control-allow-origin", origin);
    }
  });

  // Before the body is parsed or validated: a caller without a valid token learns nothing about the routes.
  // A preflight carries no token.
  app.addHook("onRequest", async (request) => {
    if (request.method !== "OPTIONS") await app.userCaller(request);
  });

  app.options("/users/*", { schema: { hide: true } }, async (request, reply) => {
    const origin = request.headers.origin;
    reply.header("vary", "Origin");
    if (typeof origin === "string" && (await app.appOrigins.anyAllows(origin))) {
      reply
        .header("access-control-allow-origin", origin)
        .header("access-control-allow-methods", "GET, PATCH, POST, DELETE")
        .header("access-control-allow-headers", "authorization, content-type, dpop")
        .header("access-control-max-age", "600");
    }
    reply.code(204);
  });

  app.get("/users/me", { schema: getProfileRoute }, async (request) => {
    return app.profiles.get(endUserOf(request));
  });

  app.patch("/users/me", { schema: updateProfileRoute }, async (request) => {
    return app.profiles.rename(endUserOf(request), request.body.name);
  });

  app.post("/users/me/contact", { schema: beginContactChangeRoute }, async (request, reply) => {
    const sent = await app.oneTimeCodes.beginContactChange(endUserOf(request), request.body, request.ip);
    app.outboxRelay?.kick();
    reply.code(202);
    return sent;
  });

  app.post("/users/me/contact/verify", { schema: confirmContactChangeRoute }, async (request) => {
    const caller = endUserOf(request);
    await app.oneTimeCodes.confirmContactChange(caller, request.body);
    app.outboxRelay?.kick();
    return app.profiles.get(caller);
  });

  app.post("/users/me/sign-out", { schema: signOutRoute }, async (request, reply) => {
    await app.profiles.signOut(endUserOf(request));
    reply.code(204);
  });

  app.delete("/users/me", { schema: eraseRoute }, async (request, reply) => {
    await app.profiles.erase(endUserOf(request));
    reply.code(204);
  });
}
