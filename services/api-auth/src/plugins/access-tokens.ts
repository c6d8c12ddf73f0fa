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
  async (app: FastifyInstance, { audience, ttlSeconds }: { audience: string; ttlSeconds: number }) => {
    app.decorate(
      "accessTokens",
      new AccessTokens({
        tokens: app.tokens,
        clients: app.clients,
        revocations: app.revocations,
        audience,
        ttlSeconds,
      }),
    );
  },
  { name: "access-tokens", dependencies: ["platform", "database", "signing-keys", "client-cache", "revocations"] },
);
