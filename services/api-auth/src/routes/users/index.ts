import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import type { FastifyInstance } from "fastify";
import {
  beginContactChangeRoute,
  confirmContactChangeRoute,
  eraseRoute,
  getProfileRoute,
  signOutRoute,
  updateProfileRoute,
} from "../../schemas/users";

/** The person's own profile, called from their device with their user token. Never cached. */
export async function userRoutes(fastify: FastifyInstance) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  app.addHook("onSend", async (_request, reply) => {
    reply.header("cache-control", "no-store");
  });

  app.get("/users/me", { schema: getProfileRoute }, async (request) => {
    return app.profiles.get(await app.userCaller(request));
  });

  app.patch("/users/me", { schema: updateProfileRoute }, async (request) => {
    return app.profiles.rename(await app.userCaller(request), request.body.name);
  });

  app.post("/users/me/contact", { schema: beginContactChangeRoute }, async (request, reply) => {
    const sent = await app.oneTimeCodes.beginContactChange(await app.userCaller(request), request.body, request.ip);
    app.outboxRelay?.kick();
    reply.code(202);
    return sent;
  });

  app.post("/users/me/contact/verify", { schema: confirmContactChangeRoute }, async (request) => {
    const caller = await app.userCaller(request);
    await app.oneTimeCodes.confirmContactChange(caller, request.body);
    app.outboxRelay?.kick();
    return app.profiles.get(caller);
  });

  app.post("/users/me/sign-out", { schema: signOutRoute }, async (request, reply) => {
    await app.profiles.signOut(await app.userCaller(request));
    reply.code(204);
  });

  app.delete("/users/me", { schema: eraseRoute }, async (request, reply) => {
    await app.profiles.erase(await app.userCaller(request));
    reply.code(204);
  });
}
