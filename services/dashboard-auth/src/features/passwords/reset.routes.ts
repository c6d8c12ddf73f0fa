import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import { requestOrigin } from "@ipaas/domain";
import type { FastifyInstance } from "fastify";
import { authRateLimit } from "../../plugins/rate-limit";
import { Message, problems } from "../../shared/schemas";
import { ForgotPasswordBody, ResetPasswordBody } from "./schemas";

const FORGOT_PASSWORD_ANSWER = {
  message: "If an account exists for this email, a link to reset its password has been sent.",
};

export default async function passwordRoutes(fastify: FastifyInstance) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  app.post(
    "/auth/forgot-password",
    {
      config: authRateLimit,
      schema: {
        tags: ["auth"],
        summary: "E-mail a single-use reset link (valid 30 minutes) if the account exists",
        description: "The answer is the same whether or not the account exists; the token is never returned.",
        body: ForgotPasswordBody,
        response: { 202: Message, ...problems(400, 429) },
      },
    },
    async (request, reply) => {
      app.passwordReset.request(request.body.email, requestOrigin(request));
      return reply.status(202).send(FORGOT_PASSWORD_ANSWER);
    },
  );

  app.post(
    "/auth/reset-password",
    {
      config: authRateLimit,
      schema: {
        tags: ["auth"],
        summary: "Set a new password with the token from the reset e-mail",
        description: "Two-factor stays as it was; every session of the user ends.",
        body: ResetPasswordBody,
        response: { 200: Message, ...problems(400, 429) },
      },
    },
    async (request) => {
      await app.passwordReset.reset(request.body.token, request.body.password, requestOrigin(request));
      return { message: "Password updated. Log in with the new password." };
    },
  );
}
