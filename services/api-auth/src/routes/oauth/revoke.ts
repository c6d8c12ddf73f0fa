import { requestOrigin } from "@ipaas/domain";
import type { FastifyInstance, FastifyReply } from "fastify";
import { presentedClient } from "../../domain/client-credentials";
import type { RequestOf, revocationRoute } from "../../schemas/oauth";

/**
 * POST /v1/auth/revoke (RFC 7009): revokes one of the calling client's tokens. The answer is 200 with an
 * empty JSON object whether or not anything was revoked, so it tells nobody whether a token existed or
 * whose it is. (RFC 7009 leaves the body open; some client libraries parse it as JSON, so it is `{}`.)
 */
export async function revokeToken(
  this: FastifyInstance,
  request: RequestOf<typeof revocationRoute>,
  reply: FastifyReply,
) {
  const presented = presentedClient(request.headers.authorization, request.body);
  const origin = requestOrigin(request);
  const caller = await this.clientAuth.authenticate(presented, { purpose: "revocation", origin, log: request.log });
  const revoked = await this.accessTokens.revoke(request.body.token, caller, origin);
  request.log.info({ organizationId: caller.organizationId, revoked }, "token revocation requested");
  return reply.status(200).send({});
}
