// The world the attack suite works in: both services as built in production on a database and NATS server
// of their own, logging everything (trace),
// api-auth delivering codes through a real SMTP server and a Messages API gateway, one valid token of each
// of the four kinds, and a record of every secret the suite sent so the logs can be searched for them.
import {
  buildDashboard,
  buildDeliveryWorld,
  type DeliveryWorld,
  newOrganization,
  organizationAdmin,
  PASSWORD,
  post,
  registerOrganization,
  tokenFor,
  withBearer,
} from "@ipaas/testing";
import type { FastifyInstance } from "fastify";
import { LeakWatch } from "./leaks";

/** The four kinds of token the platform issues. */
export const TOKEN_KINDS = ["dashboard access", "set-up", "partner access", "end-user"] as const;
export type TokenKind = (typeof TOKEN_KINDS)[number];

export interface Route {
  service: "dashboard-auth" | "api-auth";
  method: string;
  /** The OpenAPI path, `{param}` form. */
  path: string;
  /** A concrete URL: every parameter gets an id that names nothing. */
  url: string;
}

export interface AttackWorld {
  dashboard: FastifyInstance;
  delivery: DeliveryWorld;
  api(): FastifyInstance;
  /** Every line both apps logged, and the secrets to search it for. */
  leaks: LeakWatch;
  /** One valid token of each kind, issued by the services' own flows. */
  tokens: Record<TokenKind, string>;
  /** Issues each kind again (after a route that ends its caller's session), in `tokens`. */
  refresh(): Promise<void>;
  /** The service that issues each kind. */
  issuer(kind: TokenKind): FastifyInstance;
  /** Every route of both services that takes a bearer token, from their OpenAPI documents. */
  bearerRoutes(): Route[];
  appOf(route: Route): FastifyInstance;
  /** The kinds a route does not refuse with 401, calling it (without a body) with a valid token of each. */
  acceptedKinds(route: Pick<Route, "service" | "method" | "url">): Promise<TokenKind[]>;
  close(): Promise<void>;
}

/** A fresh address and phone number for each end user, so no two tests share a destination's limits. */
let people = 0;
export function newPerson(): { email: string; phone: string } {
  people += 1;
  const n = String((Date.now() % 1_000_000) * 100 + people).padStart(8, "0");
  return { email: `attack.${Date.now()}.${people}@example.test`, phone: `+9198${n.slice(-8)}` };
}

export async function buildAttackWorld(): Promise<AttackWorld> {
  const leaks = new LeakWatch();
  const { logs } = leaks;
  const sent = (...values: string[]) => leaks.sent(...values);
  // A database and NATS server of the world's own: what the suite counts is what it did.
  const delivery = await buildDeliveryWorld({ LOG_LEVEL: "trace" }, logs);
  const dashboard = await buildDashboard(
    { LOG_LEVEL: "trace", DATABASE_URL: delivery.databaseUrl, NATS_URL: delivery.natsUrl },
    logs,
  );

  // Each time from new actors: a route may have ended the last ones (a logout, an organization deleted).
  const issue = async (): Promise<Record<TokenKind, string>> => {
    // Dashboard access: a Super Admin after login with TOTP. Set-up: a new organization's admin before 2FA.
    const admin = await organizationAdmin(dashboard);
    const pending = await registerOrganization(dashboard);
    sent(admin.user.secret, ...admin.user.recoveryCodes, PASSWORD, pending.clientSecret, pending.apiKey);
    // Partner access: client credentials. End user: a one-time code by e-mail, verified by the partner.
    const org = await newOrganization(delivery.app, { scopes: ["otp"] });
    const person = newPerson();
    sent(org.clientSecret, person.email, person.phone);
    const login = await post(dashboard, "/v1/auth/login", { email: pending.email, password: PASSWORD });
    const setupToken = String((login.json() as { setupToken?: string }).setupToken);
    const partnerToken = await tokenFor(delivery.app, org, { scope: "otp" });
    const send = await withBearer(delivery.app, partnerToken, "POST", "/v1/otp/send", {
      channel: "email",
      destination: person.email,
    });
    const { requestId } = send.json() as { requestId: string };
    const code = await delivery.nextCode(person.email);
    const verified = await withBearer(delivery.app, partnerToken, "POST", "/v1/otp/verify", { requestId, code });
    const userToken = String((verified.json() as { token?: string }).token);
    for (const [kind, token] of [
      ["set-up", setupToken],
      ["end-user", userToken],
    ] as const) {
      if (token.split(".").length !== 3) throw new Error(`no ${kind} token: ${login.body} ${verified.body}`);
    }
    sent(admin.token, admin.refreshToken, setupToken, partnerToken, userToken, code);
    return {
      "dashboard access": admin.token,
      "set-up": setupToken,
      "partner access": partnerToken,
      "end-user": userToken,
    };
  };

  const tokens = await issue();
  const routesOf = (service: Route["service"], app: FastifyInstance): Route[] => {
    const document = app.swagger() as { paths: Record<string, Record<string, { security?: unknown[] }>> };
    return Object.entries(document.paths).flatMap(([path, operations]) =>
      Object.entries(operations)
        .filter(([, operation]) => JSON.stringify(operation.security ?? []).includes('"bearer"'))
        .map(([method, _operation]) => ({
          service,
          method: method.toUpperCase(),
          path,
          url: path.replace(/\{[A-Za-z_]+\}/g, "x_doesnotexist"),
        })),
    );
  };

  return {
    dashboard,
    delivery,
    api: () => delivery.app,
    leaks,
    tokens,
    async refresh() {
      Object.assign(tokens, await issue());
    },
    issuer: (kind) => (kind === "dashboard access" || kind === "set-up" ? dashboard : delivery.app),
    bearerRoutes: () => [...routesOf("dashboard-auth", dashboard), ...routesOf("api-auth", delivery.app)],
    appOf: (route) => (route.service === "dashboard-auth" ? dashboard : delivery.app),
    async acceptedKinds(route) {
      const app = route.service === "dashboard-auth" ? dashboard : delivery.app;
      const accepted: TokenKind[] = [];
      for (const kind of TOKEN_KINDS) {
        const res = await withBearer(app, tokens[kind], route.method as "GET", route.url);
        if (res.statusCode >= 500) throw new Error(`${route.method} ${route.url} with a ${kind} token: ${res.body}`);
        if (res.statusCode !== 401) accepted.push(kind);
      }
      return accepted;
    },
    async close() {
      await dashboard.close();
      await delivery.close();
    },
  };
}
