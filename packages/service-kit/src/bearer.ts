import type { FastifyRequest } from "fastify";

/** The token of an `Authorization: Bearer <token>` header (RFC 6750 §2.1 b64token), or null. */
export function bearerToken(request: FastifyRequest): string | null {
  const header = request.headers.authorization;
  if (typeof header !== "string") return null;
  const match = /^Bearer\s+([A-Za-z0-9._~+/-]+=*)$/i.exec(header.trim());
  return match?.[1] ?? null;
}
