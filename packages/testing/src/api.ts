// api-auth in the test world: building the app, client authentication headers and token requests.

import apiAuth, { type ApiConfig, apiConfig, type OAuthLimits, SERVICE } from "api-auth";
import type { FastifyInstance, LightMyRequestResponse } from "fastify";
import fp from "fastify-plugin";
import { vi } from "vitest";
import { createOrganization } from "./factories";
import { buildTestApp, type LogCapture, testConfig, waitFor } from "./infrastructure";

export interface TestAppOptions {
  env?: Record<string, string>;
  limits?: Partial<OAuthLimits>;
  logs?: LogCapture;
}

/**
 * Limits high enough that a file's tests, all from 127.0.0.1 against one app, never trip them; the
 * rate-limit tests set their own.
 */
const ROOMY_LIMITS: Partial<OAuthLimits> = { failuresPerAddress: 100_000 };

export async function buildApiAuth(options: TestAppOptions = {}): Promise<FastifyInstance> {
  const config = testConfig({ AUTH_RATE_LIMIT_PER_MINUTE: "100000", ...options.env }, apiConfig.load);
  const limits = { ...ROOMY_LIMITS, ...options.limits };
  const plugin = fp(async (app: FastifyInstance, opts: { config: ApiConfig }) => {
    await app.register(apiAuth, { config: opts.config, limits });
  });
  const app = await buildTestApp(SERVICE, plugin, config, options.logs);
  // The first connect to NATS clears the client cache (events may have gone by before the consumer
  // existed); waiting for it keeps that clear from landing in the middle of a test that counts queries.
  await waitFor("api-auth's first NATS connect", () => app.organizationSync.counts.resyncs > 0);
  return app;
}

export const newOrganization = (app: FastifyInstance, options: Parameters<typeof createOrganization>[1] = {}) =>
  createOrganization(app.db, options);

/** application/x-www-form-urlencoded encoding of one value, as RFC 6749 §2.3.1 applies inside Basic. */
export function formEncode(value: string): string {
  return encodeURIComponent(value).replaceAll("%20", "+");
}

export function basic(clientKey: string, secret: string): string {
  return `Basic ${Buffer.from(`${formEncode(clientKey)}:${formEncode(secret)}`).toString("base64")}`;
}

export const FORM = { "content-type": "application/x-www-form-urlencoded" };

export function form(params: Record<string, string>): string {
  return new URLSearchParams(params).toString();
}

/** A client_credentials token request with client_secret_basic. */
export function requestToken(
  app: FastifyInstance,
  client: { clientKey: string; clientSecret: string },
  params: Record<string, string> = {},
): Promise<LightMyRequestResponse> {
  return app.inject({
    method: "POST",
    url: "/v1/auth/token",
    headers: { ...FORM, authorization: basic(client.clientKey, client.clientSecret) },
    payload: form({ grant_type: "client_credentials", ...params }),
  });
}

export async function tokenFor(
  app: FastifyInstance,
  client: { clientKey: string; clientSecret: string },
  params: Record<string, string> = {},
): Promise<string> {
  const res = await requestToken(app, client, params);
  if (res.statusCode !== 200) throw new Error(`token request failed: ${res.statusCode} ${res.body}`);
  return (res.json() as { access_token: string }).access_token;
}

/** A client-authenticated (HTTP Basic) form POST to one of the token-management endpoints. */
function clientPost(
  app: FastifyInstance,
  client: { clientKey: string; clientSecret: string },
  url: string,
  fields: Record<string, string>,
): Promise<LightMyRequestResponse> {
  return app.inject({
    method: "POST",
    url,
    headers: { ...FORM, authorization: basic(client.clientKey, client.clientSecret) },
    payload: form(fields),
  });
}

export function introspect(app: FastifyInstance, client: { clientKey: string; clientSecret: string }, token: string) {
  return clientPost(app, client, "/v1/auth/introspect", { token });
}

export function revoke(app: FastifyInstance, client: { clientKey: string; clientSecret: string }, token: string) {
  return clientPost(app, client, "/v1/auth/revoke", { token, token_type_hint: "access_token" });
}

/** Decodes a JWT's header and payload without verifying it (the tests verify separately). */
export function decodeJwt(token: string): { header: Record<string, unknown>; payload: Record<string, unknown> } {
  const [header, payload] = token.split(".");
  if (header === undefined || payload === undefined) throw new Error("not a JWT");
  return {
    header: JSON.parse(Buffer.from(header, "base64url").toString("utf8")) as Record<string, unknown>,
    payload: JSON.parse(Buffer.from(payload, "base64url").toString("utf8")) as Record<string, unknown>,
  };
}

/** A JSON request with a Bearer token. */
export function withBearer(
  app: FastifyInstance,
  token: string,
  method: "GET" | "POST" | "DELETE",
  url: string,
  payload?: object,
): Promise<LightMyRequestResponse> {
  return app.inject({ method, url, headers: { authorization: `Bearer ${token}` }, ...(payload ? { payload } : {}) });
}

/**
 * Watches an app's reads of organization credentials (the client loader's one query), leaving out every
 * other query, such as the outbox relay's polls. `count()` is the number since the watch began.
 */
export function watchCredentialReads(app: FastifyInstance): { count(): number; stop(): void } {
  const spy = vi.spyOn(app.db, "$queryRaw");
  const isCredentialRead = (call: unknown[]) => {
    const sql = call[0] as unknown;
    const text = Array.isArray(sql) ? sql.join("?") : String(sql);
    return text.includes('FROM "organization_credentials"');
  };
  return {
    count: () => spy.mock.calls.filter(isCredentialRead).length,
    stop: () => spy.mockRestore(),
  };
}
