import formbody from "@fastify/formbody";
import rateLimit from "@fastify/rate-limit";
import { toProblemError } from "@ipaas/service-kit";
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import fp from "fastify-plugin";
import { parseStrictForm } from "../../domain/form";
import { OAuthError, tooManyRequests } from "../../domain/oauth-errors";

/** The request's media type, without parameters such as `charset`. */
function mediaType(request: FastifyRequest): string | undefined {
  return request.headers["content-type"]?.split(";")[0]?.trim().toLowerCase();
}

/** How the body of an OAuth request was encoded (only these two get past the protocol checks). */
export function bodyEncoding(request: FastifyRequest): "json" | "form" {
  return mediaType(request) === "application/json" ? "json" : "form";
}

const ACCEPTED_TYPES = new Set(["application/x-www-form-urlencoded", "application/json"]);

/** Anything the OAuth routes throw, in RFC 6749 §5.2 form; never a stack trace or a 5xx's detail. */
export function toOAuthError(error: FastifyError | Error): OAuthError {
  if (error instanceof OAuthError) return error;
  const fastifyError = error as FastifyError;
  if (fastifyError.validation) return new OAuthError("invalid_request", fastifyError.message);
  // What the services answer everywhere else decides the status here too (a database that cannot be reached is 503).
  const status = toProblemError(error).status;
  if (status === 413) return new OAuthError("invalid_request", "the request body is too large", { status });
  if (status === 503) {
    return new OAuthError("temporarily_unavailable", "the request cannot be handled right now", {
      status,
      headers: { "retry-after": "5" },
    });
  }
  if (status >= 400 && status < 500) {
    const parsing = fastifyError.code?.startsWith("FST_ERR_CTP_") === true || error instanceof SyntaxError;
    return new OAuthError("invalid_request", parsing ? "the request body could not be parsed" : "malformed request");
  }
  return new OAuthError("server_error", "the request could not be handled");
}

function sendOAuthError(reply: FastifyReply, error: OAuthError) {
  return reply.status(error.status).headers(error.headers).type("application/json; charset=utf-8").send(error.body);
}

/**
 * The protocol rules shared by the OAuth endpoints, applied to the route group that registers this:
 * strict form parsing, per-address rate limiting, parameters only in the body, `Cache-Control: no-store`
 * on every answer, and errors (including unparseable bodies) in RFC 6749 §5.2 form.
 */
export const oauthProtocol = fp(
  async (app: FastifyInstance) => {
    await app.register(formbody, { parser: parseStrictForm });
    // Per-route limits (each route sets `config.rateLimit`), keyed by `request.ip`: Fastify resolves it from
    // X-Forwarded-For only for the proxies TRUST_PROXY names, so a client cannot pick its own address.
    await app.register(rateLimit, {
      global: false,
      // Shared by every instance when REDIS_URL is set; this process's memory otherwise.
      ...(app.limitStore ? { store: app.limitStore } : {}),
      errorResponseBuilder: (_request, context) => tooManyRequests(context.ttl / 1000),
    });

    app.addHook("preValidation", async (request) => {
      if (request.method !== "POST") return; // answered 405 by its handler
      // RFC 6749 §2.3.1 and §3.2: credentials and parameters never travel in the URL, where logs and
      // proxies keep them.
      if (Object.keys(request.query as object).length > 0) {
        throw new OAuthError("invalid_request", "parameters must be sent in the request body, not the URL");
      }
      const type = mediaType(request);
      if (type === undefined || !ACCEPTED_TYPES.has(type)) {
        throw new OAuthError("invalid_request", "send the parameters as application/x-www-form-urlencoded");
      }
    });

    // RFC 6749 §5.1: responses carrying tokens (and so every answer here) must not be cached.
    app.addHook("onSend", async (_request, reply) => {
      reply.header("cache-control", "no-store");
      reply.header("pragma", "no-cache");
    });

    app.setErrorHandler((error: FastifyError, request, reply) => {
      const oauthError = toOAuthError(error);
      if (oauthError.status >= 500) request.log.error({ err: error }, "OAuth request failed");
      else request.log.info({ oauthError: oauthError.error, status: oauthError.status }, "OAuth request refused");
      return sendOAuthError(reply, oauthError);
    });
  },
  { name: "oauth-protocol" },
);

/** Answers 405 for every method but POST on the OAuth endpoints. */
export function postOnly(app: FastifyInstance, url: string): void {
  app.route({
    method: ["GET", "PUT", "PATCH", "DELETE"],
    url,
    schema: { hide: true },
    handler: async () => {
      throw new OAuthError("invalid_request", "use POST", { status: 405, headers: { allow: "POST" } });
    },
  });
}
