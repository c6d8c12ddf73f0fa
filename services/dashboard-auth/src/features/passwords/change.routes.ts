import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import { requestOrigin } from "@ipaas/domain";
import type { FastifyInstance } from "fastify";
import { principalOf } from "../../plugins/identity";
import { authRateLimit } from "../../plugins/rate-limit";
import { Message, problems } from "../../shared/schemas";
import { ChangePasswordBody } from "./schemas";

export default async function changePasswordRoutes(fastify: FastifyInstance) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  app.put(
    "/users/change-password",
    {
      config: { ...authRateLimit, access: "signed-in" },
      schema: {
        tags: ["users"],
        summary: "Change your own password (the current one is required); your other sessions end",
        security: [{ bearer: [] }],
        body: ChangePasswordBody,
        response: { 200: Message, ...problems(400, 401, 403, 429) },
      },
    },
    async (request) => {
      await app.passwordChange.change(principalOf(request), request.body, requestOrigin(request));
      return { message: "Password updated successfully" };
    },
  );
}
