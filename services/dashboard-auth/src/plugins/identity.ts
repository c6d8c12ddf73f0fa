import { type BearerAuthenticator, bearerAuthenticator, claimsOrRefuse } from "@ipaas/service-kit";
import type { FastifyInstance, FastifyRequest } from "fastify";
import fp from "fastify-plugin";
import type { Actor } from "../access/access";
import type { DashboardConfig } from "../config";
import { fail } from "../errors";
import { PasswordChange } from "../features/passwords/change";
import { PasswordReset } from "../features/passwords/reset";
import { ACCESS_TOKEN, type Principal, Sessions } from "../features/sessions/sessions";
import { AttemptGates } from "../features/sign-in/attempt-gates";
import { sweepGates } from "../features/sign-in/attempt-gates.repository";
import { Login, SETUP_TOKEN } from "../features/sign-in/login";
import { Registration } from "../features/sign-in/registration";
import { TwoFactorEnrolment } from "../features/two-factor/enrolment";
import { TwoFactor } from "../features/two-factor/two-factor";

const GATE_SWEEP_INTERVAL_MS = 10 * 60_000;
const GATE_RETENTION_MS = 24 * 3_600_000;

declare module "fastify" {
  interface FastifyInstance {
    sessions: Sessions;
    twoFactor: TwoFactor;
    twoFactorEnrolment: TwoFactorEnrolment;
    login: Login;
    registration: Registration;
    passwordReset: PasswordReset;
    passwordChange: PasswordChange;
    /** Hook: requires a valid dashboard access token and sets `request.principal`. */
    authenticate: (request: FastifyRequest) => Promise<void>;
    /** `authenticate`, and also sets `request.actor` (tenant, rank and grants) for a permission check. */
    authenticateActor: (request: FastifyRequest) => Promise<void>;
    /** Hook: requires a two-factor set-up token (and no other kind) and sets `request.setupSubject`. */
    authenticateSetup: (request: FastifyRequest) => Promise<void>;
  }
  interface FastifyRequest {
    /** The user a request's set-up token names, once `authenticateSetup` has run. */
    setupSubject: string | null;
    principal: Principal | null;
    /** The caller's current tenant, rank and grants, read with the session. */
    actor: Actor | null;
  }
}

/** The dashboard's identity services, built once per app and shared by the routes. */
export const identityPlugin = fp(
  async (app: FastifyInstance, { config }: { config: DashboardConfig }) => {
    const sessions = new Sessions(app.db, app.tokens, config, app.sessionView);
    const twoFactor = new TwoFactor(app.db, app.masterKey, app.sessionView);
    app.decorate("sessions", sessions);
    app.decorate("twoFactor", twoFactor);
    app.decorate("twoFactorEnrolment", new TwoFactorEnrolment(app.db, twoFactor));
    const gates = new AttemptGates(app.db, app.masterKey);
    app.decorate("login", new Login(app.db, app.passwords, twoFactor, sessions, app.tokens, gates, app.log));
    app.decorate(
      "registration",
      new Registration(app.db, app.passwords, app.mailer, gates, config.BANK_REGISTRATION, app.log),
    );
    app.decorate(
      "passwordReset",
      new PasswordReset(app.db, app.passwords, sessions, app.mailer, gates, config.DASHBOARD_UI_URL, app.log),
    );
    // Gates untouched for a day count afresh anyway; dropping them keeps the table small.
    const sweeper = setInterval(() => {
      sweepGates(app.db, new Date(Date.now() - GATE_RETENTION_MS)).catch((error: unknown) => {
        app.log.warn({ err: error }, "could not sweep old attempt gates");
      });
    }, GATE_SWEEP_INTERVAL_MS);
    sweeper.unref();
    app.addHook("onClose", async () => clearInterval(sweeper));
    app.decorate("passwordChange", new PasswordChange(app.db, app.passwords, sessions));
    app.decorateRequest("principal", null);
    app.decorateRequest("actor", null);
    // What an authenticated route answers is about one person or tenant: no cache may keep it.
    app.addHook("onSend", async (request, reply) => {
      if (request.principal && !reply.hasHeader("cache-control")) reply.header("cache-control", "no-store");
    });
    const access = await bearerAuthenticator(app, "access", {
      typ: [ACCESS_TOKEN.typ],
      audience: ACCESS_TOKEN.audience,
    });
    const setup = await bearerAuthenticator(app, "setup", { typ: [SETUP_TOKEN.typ], audience: SETUP_TOKEN.audience });
    const verified = (authenticator: BearerAuthenticator, request: FastifyRequest, kind: string) =>
      claimsOrRefuse(authenticator, request, kind, (detail) => fail("INVALID_TOKEN", detail));
    app.decorate("authenticate", async (request: FastifyRequest) => {
      request.principal = await sessions.authenticate(await verified(access, request, "access"));
    });
    app.decorate("authenticateActor", async (request: FastifyRequest) => {
      const { principal, actor } = await sessions.authenticateActor(await verified(access, request, "access"));
      request.principal = principal;
      request.actor = actor;
    });
    app.decorateRequest("setupSubject", null);
    app.decorate("authenticateSetup", async (request: FastifyRequest) => {
      request.setupSubject = (await verified(setup, request, "set-up")).sub;
    });
  },
  { name: "identity", dependencies: ["database", "signing-keys", "passwords", "mailer", "session-view"] },
);

/** The user of a route whose `onRequest` ran `authenticateSetup`. */
export function setupSubjectOf(request: FastifyRequest): string {
  if (!request.setupSubject) throw fail("INVALID_TOKEN");
  return request.setupSubject;
}

/** The principal of an authenticated route (the preHandler has run). */
export function principalOf(request: FastifyRequest): Principal {
  if (!request.principal) throw fail("INVALID_TOKEN");
  return request.principal;
}
