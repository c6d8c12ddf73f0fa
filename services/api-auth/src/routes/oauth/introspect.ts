import { requestOrigin } from "@ipaas/domain";
import type { FastifyInstance } from "fastify";
import { presentedClient } from "../../domain/client-credentials";
import type { IntrospectionResponse, introspectionRoute, RequestOf } from "../../schemas/oauth";

/** POST /v1/auth/introspect (RFC 7662): the calling client asks about one of its own tokens. */
export async function introspectToken(
  this: FastifyInstance,
  request: RequestOf<typeof introspectionRoute>,
): Promise<IntrospectionResponse> {
  const presented = presentedClient(request.headers.authorization, request.body);
  const caller = await this.clientAuth.authenticate(presented, {
    purpose: "introspection",
    origin: requestOrigin(request),
    log: request.log,
  });
  return this.accessTokens.introspect(request.body.token, caller);
}
