import type { FastifyInstance, onRequestAsyncHookHandler, onRouteHookHandler } from "fastify";
import type { Action } from "./access";

/**
 * What a route asks of its caller: a signed-in dashboard user, whoever it is (routes about the caller
 * themselves), or a permission, `action` on `module`, checked against the caller's current grants on
 * every request.
 */
export type RouteAccess = "signed-in" | { module: string; action: Action };

declare module "fastify" {
  interface FastifyContextConfig {
    access?: RouteAccess;
  }
}

/**
 * The routes anyone may call: the way in (registration, login, password reset, refresh) and the two-factor
 * set-up routes, which check the set-up token that login hands out themselves. Every other route is guarded.
 */
export const PUBLIC_ROUTES: ReadonlySet<string> = new Set([
  "POST /v1/auth/banks/register",
  "POST /v1/auth/register",
  "POST /v1/auth/login",
  "POST /v1/auth/banks/login",
  "POST /v1/auth/forgot-password",
  "POST /v1/auth/reset-password",
  "POST /v1/auth/refresh",
  "POST /v1/auth/2fa/setup",
  "POST /v1/auth/2fa/verify",
]);

/**
 * Secure by default: every route registered after this is guarded by the access it declares in
 * `config.access`, unless it is on the public list. A route that is neither public nor declares its
 * access stops the service from starting, so forgetting a guard cannot leave a route open.
 */
export function guardRoutes(app: FastifyInstance, publicRoutes: ReadonlySet<string> = PUBLIC_ROUTES): void {
  const guard: onRouteHookHandler = (route) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    // Fastify adds a HEAD route beside each GET, with the GET's options: it is guarded like the GET.
    const isPublic = methods.every((m) => publicRoutes.has(`${m === "HEAD" ? "GET" : m} ${route.url}`));
    const access = route.config?.access;
    if (isPublic) {
      if (access) throw new Error(`${methods.join(",")} ${route.url} is public and declares access too`);
      return;
    }
    if (!access) {
      throw new Error(`${methods.join(",")} ${route.url} is not public and declares no config.access`);
    }
    // At onRequest, before the body is parsed and validated: a stranger learns nothing of a route's schema.
    const check: onRequestAsyncHookHandler =
      access === "signed-in" ? app.authenticate : app.authorize(access.module, access.action);
    const existing = route.onRequest ?? [];
    route.onRequest = [...(Array.isArray(existing) ? existing : [existing]), check];
  };
  app.addHook("onRoute", guard);
}
