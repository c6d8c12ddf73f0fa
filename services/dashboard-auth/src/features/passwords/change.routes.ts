import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import { requestOrigin, writeAudit } from "@ipaas/service-kit";
import type { FastifyInstance } from "fastify";
import { fail, invalidField } from "../../errors";
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
      const principal = principalOf(request);
      const { current_password, password, confirm_password } = request.body;
      const origin = requestOrigin(request);
      const audit = { actorType: "user" as const, actorId: principal.userId, tenantId: principal.tenantId };
      if (password !== confirm_password) {
        throw invalidField("confirm_password", "does not match password", "PASSWORD_MISMATCH");
      }
      const user = await app.db.user.findUniqueOrThrow({ where: { id: principal.userId } });
      if (!(await app.passwords.verify(user.passwordHash, current_password, origin.ip))) {
        await writeAudit(
          app.db,
          {
            ...audit,
            action: "auth.password_changed",
            outcome: "failure",
            details: { reason: "wrong_current_password" },
          },
          origin,
        );
        throw fail("WRONG_PASSWORD");
      }
      app.passwords.accept(password, user);
      const passwordHash = await app.passwords.hash(password, origin.ip);
      await app.db.$transaction(async (tx) => {
        await tx.user.update({ where: { id: user.id }, data: { passwordHash, passwordChangedAt: new Date() } });
        await app.sessions.endAllFor(user.id, "password_changed", { except: principal.sessionId, db: tx });
        await writeAudit(tx, { ...audit, action: "auth.password_changed", outcome: "success" }, origin);
      });
      return { message: "Password updated successfully" };
    },
  );
}
