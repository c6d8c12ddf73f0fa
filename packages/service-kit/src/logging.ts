import type { FastifyRequest } from "fastify";
import type { LoggerOptions } from "pino";

/**
 * Keys whose values never reach a log line, wherever they appear in a logged object. Request bodies are
 * not logged at all; this is the second line of defence for anything that logs an object by mistake.
 */
export const SENSITIVE_KEYS = [
  "authorization",
  "cookie",
  "set-cookie",
  "password",
  "confirm_password",
  "currentPassword",
  "current_password",
  "newPassword",
  "secret",
  "client_secret",
  "clientSecret",
  "otp",
  "token",
  "access_token",
  "refresh_token",
  "refreshToken",
  "setupToken",
  "recoveryCode",
  "privateKey",
] as const;

const sensitive = new Set<string>([...SENSITIVE_KEYS, "code"].map((k) => k.toLowerCase()));

/** Drops the values of sensitive query parameters (credentials sent in a URL must not be logged either). */
export function redactUrl(url: string): string {
  const q = url.indexOf("?");
  if (q < 0) return url;
  const params = new URLSearchParams(url.slice(q + 1));
  for (const key of [...params.keys()]) {
    if (sensitive.has(key.toLowerCase())) params.set(key, "[REDACTED]");
  }
  return `${url.slice(0, q)}?${params.toString()}`;
}

/** Header names that carry credentials. */
const SENSITIVE_HEADERS = ["authorization", "cookie", "set-cookie"] as const;

/**
 * The redaction paths: credential headers of requests and responses, and every sensitive key at the top
 * of a logged object or one level down. Kept short on purpose: the redaction runs for every request's
 * logger, and deeper wildcards multiply its cost; the request serializer below already keeps bodies and
 * header values out of the request log.
 */
function redactPaths(): string[] {
  // `code` is only redacted where a request carried it: error objects use `code` for their own names.
  const paths: string[] = ["body.code", "*.body.code", "query.code", "*.query.code"];
  for (const header of SENSITIVE_HEADERS)
    paths.push(`req.headers["${header}"]`, `res.headers["${header}"]`, `headers["${header}"]`);
  for (const key of SENSITIVE_KEYS) {
    if (key.includes("-")) continue;
    paths.push(key, `*.${key}`);
  }
  return paths;
}

export function loggerOptions(level: string, service: string): LoggerOptions {
  return {
    level,
    base: { service },
    redact: { paths: redactPaths(), censor: "[REDACTED]" },
    serializers: {
      req(req: FastifyRequest) {
        return {
          method: req.method,
          url: redactUrl(req.url),
          remoteAddress: req.ip,
          userAgent: req.headers["user-agent"],
        };
      },
    },
  };
}
