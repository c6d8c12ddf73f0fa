import type { FastifyInstance } from "fastify";
import fp from "fastify-plugin";
import { ClientAuthenticator } from "../domain/client-authenticator";
import { AuthFailureGuard, type OAuthLimits } from "../domain/limits";

declare module "fastify" {
  interface FastifyInstance {
    /** Failed client authentications per client key and address, per address and per client key. */
    authFailures: AuthFailureGuard;
    /** Checks a client's key and secret (Basic or body) against the client cache. */
    clientAuth: ClientAuthenticator;
  }
}

export interface ClientAuthenticatorOptions {
  limits: OAuthLimits;
}

/**
 * `app.clientAuth` and the failure counters behind its brute-force protection (`app.authFailures`), which
 * shed and slow wrong secrets but never refuse the right one.
 */
export const clientAuthenticatorPlugin = fp(
  async (app: FastifyInstance, options: ClientAuthenticatorOptions) => {
    const failures = new AuthFailureGuard(options.limits);
    app.decorate("authFailures", failures);
    app.decorate("clientAuth", new ClientAuthenticator({ clients: app.clients, failures, db: app.db }));
  },
  { name: "client-authenticator", dependencies: ["database", "client-cache"] },
);
