import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import type { FastifyInstance } from "fastify";
import { partnerOf } from "../../plugins/one-time-codes";
import { forgetUserRoute, requestStateRoute, sendRoute, tokenStatusRoute, verifyRoute } from "../../schemas/otp";

/** Every route here is for an organization's backend holding a partner access token with this scope. */
const OTP_SCOPE = "otp";

/**
 * End-user sign-in with one-time codes, for organizations' backends: send a code, check it, ask whether a
 * user token is active, follow a delivery, forget a user. What is answered never says anything about the
 * person, and is never cached.
 */
export async function otpRoutes(fastify: FastifyInstance) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  app.addHook("onSend", async (_request, reply) => {
    reply.header("cache-control", "no-store");
  });
  // Before the body is parsed or validated: a caller without a valid token learns nothing about the routes.
  app.addHook("onRequest", async (request) => {
    await app.partnerCaller(request, OTP_SCOPE);
  });

  app.post("/otp/send", { schema: sendRoute }, async (request, reply) => {
    const caller = partnerOf(request);
    const { endUserIp, ...input } = request.body;
    const sent = await app.oneTimeCodes.send(caller, input, { caller: request.ip, person: endUserIp ?? null });
    // Committed: the relay publishes it now rather than at its next poll.
    app.outboxRelay?.kick();
    reply.code(202);
    return sent;
  });

  app.post("/otp/verify", { schema: verifyRoute }, async (request) => {
    const caller = partnerOf(request);
    return app.oneTimeCodes.verify(caller, request.body);
  });

  app.post("/otp/token-status", { schema: tokenStatusRoute }, async (request) => {
    const caller = partnerOf(request);
    return app.oneTimeCodes.tokenStatus(caller, request.body.token);
  });

  app.get("/otp/requests/:requestId", { schema: requestStateRoute }, async (request) => {
    const caller = partnerOf(request);
    return app.oneTimeCodes.deliveryState(caller, request.params.requestId);
  });

  app.delete("/end-users/:userId", { schema: forgetUserRoute }, async (request, reply) => {
    const caller = partnerOf(request);
    await app.oneTimeCodes.forget(caller, request.params.userId);
    reply.code(204);
  });
}
