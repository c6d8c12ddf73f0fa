import type { FastifyInstance } from "fastify";
import fp from "fastify-plugin";
import { AccessTokens } from "../domain/access-tokens";

declare module "fastify" {
  interface FastifyInstance {
    /** Issues, introspects and revokes partner access tokens. */
    accessTokens: AccessTokens;
  }
}

export const accessTokensPlugin = fp(
  async (app: FastifyInstance) => {
    app.decorate(
      "accessTokens",
      new AccessTokens({
        tokens: app.tokens,
        db: app.db,
        audience: app.config.API_TOKEN_AUDIENCE,
        ttlSeconds: app.config.API_TOKEN_TTL_SECONDS,
      }),
    );
  },
  { name: "access-tokens", dependencies: ["platform", "database", "signing-keys"] },
);
