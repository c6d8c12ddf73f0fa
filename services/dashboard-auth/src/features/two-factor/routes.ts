import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import { bearerToken, InvalidTokenError, requestOrigin, writeAudit } from "@ipaas/service-kit";
import type { FastifyInstance, FastifyRequest } from "fastify";
import { fail } from "../../errors";
import { authRateLimit } from "../../plugins/rate-limit";
import { problems } from "../../shared/schemas";
import { isActiveUser } from "../sessions/sessions";
import { SETUP_TOKEN } from "../sign-in/login";
import { CodeBody, RecoveryCodes, TwoFactorSetup } from "./schemas";

export default async function twoFactorRoutes(fastify: FastifyInstance) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  /** The user behind a set-up token; no other token is accepted here, and this token nowhere else. */
  async function setupUser(request: FastifyRequest) {
    const token = bearerToken(request);
    if (!token) throw fail("INVALID_TOKEN", "send the set-up token as `Authorization: Bearer <token>`");
    let userId: string;
    try {
      const { claims } = await app.tokens.verify(token, { typ: [SETUP_TOKEN.typ], audience: SETUP_TOKEN.audience });
      userId = claims.sub;
    } catch (error) {
      if (error instanceof InvalidTokenError) throw fail("INVALID_TOKEN", error.reason);
      throw error;
    }
    const user = await app.db.user.findUnique({ where: { id: userId } });
    if (!user || !isActiveUser(user)) throw fail("INVALID_TOKEN", "account disabled");
    return user;
  }

  app.post(
    "/auth/2fa/setup",
    {
      config: authRateLimit,
      schema: {
        tags: ["auth"],
        summary: "Start TOTP set-up (Bearer set-up token): a secret and a QR code to scan",
        security: [{ bearer: [] }],
        response: { 200: TwoFactorSetup, ...problems(401, 409, 429) },
      },
    },
    async (request, reply) => {
      const user = await setupUser(request);
      const setup = await app.twoFactor.beginSetup(user);
      await writeAudit(
        app.db,
        {
          action: "auth.2fa_setup_started",
          outcome: "success",
          actorType: "user",
          actorId: user.id,
          tenantId: user.tenantId,
        },
        requestOrigin(request),
      );
      reply.header("cache-control", "no-store");
      return setup;
    },
  );

  app.post(
    "/auth/2fa/verify",
    {
      config: authRateLimit,
      schema: {
        tags: ["auth"],
        summary: "Confirm TOTP set-up with a first code (Bearer set-up token); returns ten recovery codes",
        security: [{ bearer: [] }],
        body: CodeBody,
        response: { 200: RecoveryCodes, ...problems(400, 401, 409, 429) },
      },
    },
    async (request, reply) => {
      const user = await setupUser(request);
      const origin = requestOrigin(request);
      try {
        const recoveryCodes = await app.twoFactor.confirm(user.id, request.body.code.trim());
        await writeAudit(
          app.db,
          {
            action: "auth.2fa_enabled",
            outcome: "success",
            actorType: "user",
            actorId: user.id,
            tenantId: user.tenantId,
          },
          origin,
        );
        reply.header("cache-control", "no-store");
        return {
          message: "Two-factor authentication is enabled. Keep the recovery codes somewhere safe; each works once.",
          recoveryCodes,
        };
      } catch (error) {
        await writeAudit(
          app.db,
          {
            action: "auth.2fa_enabled",
            outcome: "failure",
            actorType: "user",
            actorId: user.id,
            tenantId: user.tenantId,
          },
          origin,
        );
        throw error;
      }
    },
  );
}
