import { bearerAuthenticator, claimsOrRefuse } from "@ipaas/service-kit";
import type { FastifyInstance, FastifyRequest } from "fastify";
import fp from "fastify-plugin";
import type { PartnerCaller } from "../domain/access-tokens";
import { OneTimeCodes } from "../domain/end-users/one-time-codes";
import { fail } from "../errors";

declare module "fastify" {
  interface FastifyInstance {
    oneTimeCodes: OneTimeCodes;
    /**
     * The organization calling with a partner access token that grants `scope`; refuses 401 or 403. Sets
     * `request.partner`.
     */
    partnerCaller(request: FastifyRequest, scope: string): Promise<PartnerCaller>;
  }
  interface FastifyRequest {
    /** Set once `partnerCaller` has authenticated the request. */
    partner: PartnerCaller | null;
  }
}

/** The partner an `onRequest` hook authenticated (with `partnerCaller`); a route without one is a bug. */
export function partnerOf(request: FastifyRequest): PartnerCaller {
  if (!request.partner) throw new Error(`${request.method} ${request.url}: no partner was authenticated`);
  return request.partner;
}

/** End-user sign-in with one-time codes, and the partner authentication its routes use. */
export const oneTimeCodesPlugin = fp(
  async (app: FastifyInstance) => {
    app.decorate("oneTimeCodes", new OneTimeCodes(app.db, app.masterKey, app.tokens, app.revocations));
    const partner = await bearerAuthenticator(app, "partner", app.accessTokens.kind);
    app.decorateRequest("partner", null);
    app.decorate("partnerCaller", async (request: FastifyRequest, scope: string) => {
      const claims = await claimsOrRefuse(partner, request, "partner access", (detail) =>
        fail("INVALID_TOKEN", detail),
      );
      request.partner = await app.accessTokens.callerOf(claims, scope);
      return request.partner;
    });
  },
  { name: "one-time-codes", dependencies: ["database", "signing-keys", "access-tokens", "revocations"] },
);
