import type { FastifyInstance, FastifyRequest } from "fastify";
import fp from "fastify-plugin";
import { Login } from "../domain/login";
import { PasswordReset } from "../domain/password-reset";
import { Registration } from "../domain/registration";
import { type Principal, Sessions } from "../domain/sessions";
import { TwoFactor } from "../domain/two-factor";
import { fail } from "../errors";

declare module "fastify" {
  interface FastifyInstance {
    sessions: Sessions;
    twoFactor: TwoFactor;
    login: Login;
    registration: Registration;
    passwordReset: PasswordReset;
    /** preHandler: requires a valid dashboard access token and sets `request.principal`. */
    authenticate: (request: FastifyRequest) => Promise<void>;
  }
  interface FastifyRequest {
    principal: Principal | null;
  }
}

/** The Bearer token of a request, or null. */
export function bearerToken(request: FastifyRequest): string | null {
  const header = request.headers.authorization;
  if (typeof header !== "string") return null;
  const match = /^Bearer\s+([A-Za-z0-9._~+/-]+=*)$/i.exec(header.trim());
  return match?.[1] ?? null;
}

/** The dashboard's identity services, built once per app and shared by the routes. */
export const identityPlugin = fp(
  async (app: FastifyInstance) => {
    const sessions = new Sessions(app.db, app.tokens, app.config);
    const twoFactor = new TwoFactor(app.db, app.masterKey);
    app.decorate("sessions", sessions);
    app.decorate("twoFactor", twoFactor);
    app.decorate("login", new Login(app.db, app.passwords, twoFactor, sessions, app.tokens));
    app.decorate("registration", new Registration(app.db, app.passwords));
    app.decorate(
      "passwordReset",
      new PasswordReset(app.db, app.passwords, sessions, app.mailer, app.config.DASHBOARD_UI_URL, app.log),
    );
    app.decorateRequest("principal", null);
    app.decorate("authenticate", async (request: FastifyRequest) => {
      const token = bearerToken(request);
      if (!token) throw fail("INVALID_TOKEN", "send the access token as `Authorization: Bearer <token>`");
      request.principal = await sessions.authenticate(token);
    });
  },
  { name: "identity", dependencies: ["database", "signing-keys", "passwords", "mailer"] },
);

/** The principal of an authenticated route (the preHandler has run). */
export function principalOf(request: FastifyRequest): Principal {
  if (!request.principal) throw fail("INVALID_TOKEN");
  return request.principal;
}
