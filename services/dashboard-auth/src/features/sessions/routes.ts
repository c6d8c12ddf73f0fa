import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import { requestOrigin, writeAudit } from "@ipaas/domain";
import type { FastifyInstance } from "fastify";
import { principalOf } from "../../plugins/identity";
import { authRateLimit } from "../../plugins/rate-limit";
import { Message, problems } from "../../shared/schemas";
import { RefreshBody, SessionTokens, VerifyTokenResult } from "./schemas";

export default async function sessionRoutes(fastify: FastifyInstance) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  app.post(
    "/auth/verify-token",
    {
      config: { access: "signed-in" },
      schema: {
        tags: ["auth"],
        summary: "Check an access token (Bearer): signature, expiry, session, and the user's current state",
        security: [{ bearer: [] }],
        response: { 200: VerifyTokenResult, ...problems(401) },
      },
    },
    async () => ({ success: true as const, token: "Valid access token" }),
  );

  app.post(
    "/auth/refresh",
    {
      config: authRateLimit,
      schema: {
        tags: ["auth"],
        summary: "Exchange a refresh token for a new access token and refresh token",
        description: "Each refresh token works once. Presenting a used one ends the whole session.",
        body: RefreshBody,
        response: { 200: SessionTokens, ...problems(400, 401, 429) },
      },
    },
    async (request, reply) => {
      const issued = await app.sessions.refresh(request.body.refreshToken, requestOrigin(request));
      const { token, expiredIn, createdAt, refreshToken } = issued;
      reply.header("cache-control", "no-store");
      return { token, expiredIn, createdAt, refreshToken };
    },
  );

  app.post(
    "/auth/logout",
    {
      config: { access: "signed-in" },
      schema: {
        tags: ["auth"],
        summary: "End this session at once: its access and refresh tokens stop working",
        security: [{ bearer: [] }],
        response: { 200: Message, ...problems(401) },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      await app.sessions.endSession(principal.sessionId, "logout");
      await writeAudit(
        app.db,
        {
          action: "auth.logout",
          outcome: "success",
          actorType: "user",
          actorId: principal.userId,
          tenantId: principal.tenantId,
        },
        requestOrigin(request),
      );
      return { message: "Logged out" };
    },
  );
}
