import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import type { TenantKind } from "@ipaas/db";
import { requestOrigin } from "@ipaas/domain";
import type { FastifyInstance, FastifyReply } from "fastify";
import Type from "typebox";
import { authRateLimit } from "../../plugins/rate-limit";
import { problems } from "../../shared/schemas";
import { SessionTokens } from "../sessions/schemas";
import type { LoginOutcome } from "./login";
import { LoginBody, SetupRequired } from "./schemas";

function answer(reply: FastifyReply, outcome: LoginOutcome) {
  reply.header("cache-control", "no-store");
  if (outcome.kind === "setup") {
    return { twoFactorSetupRequired: true as const, setupToken: outcome.setupToken, expiredIn: outcome.expiredIn };
  }
  const { token, expiredIn, createdAt, refreshToken } = outcome.session;
  return { token, expiredIn, createdAt, refreshToken };
}

const schema = (summary: string) => ({
  tags: ["auth"],
  summary,
  description:
    "Email and password, then the mandatory second factor. Without 2FA set up, answers `twoFactorSetupRequired` " +
    "with a short-lived set-up token and no access token. With 2FA enabled, `code` (a TOTP code or a recovery " +
    "code) is required: without it the answer is 401 TWO_FACTOR_REQUIRED. An account an administrator changed " +
    "while its password was being checked (disabled, new password, new permissions) gets no session: 409 " +
    "CONFLICT, and the second factor stays unused for the next attempt.",
  body: LoginBody,
  response: { 200: Type.Union([SessionTokens, SetupRequired]), ...problems(400, 401, 403, 409, 429) },
});

/** Organizations and the platform owner log in here; banks at /auth/banks/login (as the seed has it). */
const ORGANIZATION_LOGIN: readonly TenantKind[] = ["ORGANIZATION", "MAIN"];
const BANK_LOGIN: readonly TenantKind[] = ["BANK"];

export default async function loginRoutes(fastify: FastifyInstance) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  app.post(
    "/auth/login",
    { config: authRateLimit, schema: schema("Log in (organizations and the platform owner)") },
    async (request, reply) =>
      answer(reply, await app.login.login(request.body, ORGANIZATION_LOGIN, requestOrigin(request))),
  );

  app.post("/auth/banks/login", { config: authRateLimit, schema: schema("Log in (banks)") }, async (request, reply) =>
    answer(reply, await app.login.login(request.body, BANK_LOGIN, requestOrigin(request))),
  );
}
