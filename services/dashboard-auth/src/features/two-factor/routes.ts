import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import { requestOrigin } from "@ipaas/domain";
import type { FastifyInstance } from "fastify";
import { setupSubjectOf } from "../../plugins/identity";
import { authRateLimit } from "../../plugins/rate-limit";
import { problems } from "../../shared/schemas";
import { CodeBody, RecoveryCodes, TwoFactorSetup } from "./schemas";

export default async function twoFactorRoutes(fastify: FastifyInstance) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  app.post(
    "/auth/2fa/setup",
    {
      config: authRateLimit,
      // Before the body is parsed or validated: without a set-up token nothing about the route is revealed.
      onRequest: app.authenticateSetup,
      schema: {
        tags: ["auth"],
        summary: "Start TOTP set-up (Bearer set-up token): a secret and a QR code to scan",
        security: [{ bearer: [] }],
        response: { 200: TwoFactorSetup, ...problems(401, 409, 429) },
      },
    },
    async (request, reply) => {
      const setup = await app.twoFactorEnrolment.begin(setupSubjectOf(request), requestOrigin(request));
      reply.header("cache-control", "no-store");
      return setup;
    },
  );

  app.post(
    "/auth/2fa/verify",
    {
      config: authRateLimit,
      onRequest: app.authenticateSetup,
      schema: {
        tags: ["auth"],
        summary: "Confirm TOTP set-up with a first code (Bearer set-up token); returns ten recovery codes",
        security: [{ bearer: [] }],
        body: CodeBody,
        response: { 200: RecoveryCodes, ...problems(400, 401, 409, 429) },
      },
    },
    async (request, reply) => {
      const recoveryCodes = await app.twoFactorEnrolment.enable(
        setupSubjectOf(request),
        request.body.code,
        requestOrigin(request),
      );
      reply.header("cache-control", "no-store");
      return {
        message: "Two-factor authentication is enabled. Keep the recovery codes somewhere safe; each works once.",
        recoveryCodes,
      };
    },
  );
}
