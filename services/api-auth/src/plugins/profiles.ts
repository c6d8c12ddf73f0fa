import { bearerAuthenticator, claimsOrRefuse } from "@ipaas/service-kit";
import type { FastifyInstance, FastifyRequest } from "fastify";
import fp from "fastify-plugin";
import { AppOrigins } from "../domain/end-users/app-origins";
import { acceptProof, DPOP_ALGORITHMS } from "../domain/end-users/device-binding";
import { USER_TOKEN_KIND } from "../domain/end-users/one-time-codes";
import { Profiles, type UserCaller } from "../domain/end-users/profiles";
import { fail } from "../errors";

declare module "fastify" {
  interface FastifyInstance {
    profiles: Profiles;
    /**
     * The person calling with their user token (`Bearer`: the JWT, or the JWT Base64-encoded; `DPoP` with
     * a proof, for a token bound to the device's key); refuses 401.
     */
    userCaller(request: FastifyRequest): Promise<UserCaller>;
    appOrigins: AppOrigins;
  }
  interface FastifyRequest {
    /** Set once `userCaller` has authenticated the request. */
    endUser: UserCaller | null;
  }
}

const JWT = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;
const AUTHORIZATION = /^(Bearer|DPoP)\s+([A-Za-z0-9._~+/-]+=*)$/i;

/** What a 401 on these routes offers: both ways to present a user token. */
/** The person an `onRequest` hook authenticated (with `userCaller`); a route without one is a bug. */
export function endUserOf(request: FastifyRequest): UserCaller {
  if (!request.endUser) throw new Error(`${request.method} ${request.url}: no end user was authenticated`);
  return request.endUser;
}

export const USER_CHALLENGE = `Bearer realm="ipaas-user-api", DPoP algs="${DPOP_ALGORITHMS}"`;

interface Presented {
  scheme: "bearer" | "dpop";
  token: string;
}

/**
 * The user token of a request and its scheme: `Bearer` with the JWT or the JWT Base64-encoded (the seed's
 * form), or `DPoP` with the JWT.
 */
function presentedToken(request: FastifyRequest): Presented | null {
  const header = request.headers.authorization;
  const match = typeof header === "string" ? AUTHORIZATION.exec(header.trim()) : null;
  if (!match) return null;
  const scheme = (match[1] as string).toLowerCase() as Presented["scheme"];
  const value = match[2] as string;
  if (scheme === "dpop" || JWT.test(value)) return { scheme, token: value };
  const decoded = Buffer.from(value, "base64").toString("utf8").trim();
  return { scheme, token: JWT.test(decoded) ? decoded : value };
}

/** The end-user profile API and the user-token authentication its routes use. */
export const profilesPlugin = fp(
  async (app: FastifyInstance) => {
    const profiles = new Profiles(app.db, app.masterKey, app.revocations);
    const { origin } = new URL(app.tokens.issuer);
    app.decorate("profiles", profiles);
    app.decorate("appOrigins", new AppOrigins(app.db));
    app.decorateRequest("endUser", null);
    const user = await bearerAuthenticator(app, "user", USER_TOKEN_KIND, (r) => presentedToken(r)?.token ?? null);
    const refuse = (detail: string) =>
      fail("INVALID_TOKEN", detail, { headers: { "www-authenticate": USER_CHALLENGE } });
    app.decorate("userCaller", async (request: FastifyRequest) => {
      const claims = await claimsOrRefuse(user, request, "user", refuse);
      const presented = presentedToken(request) as Presented;
      const jkt = (claims.cnf as { jkt?: unknown } | undefined)?.jkt;
      if (typeof jkt === "string") {
        // RFC 9449 §7.1: a bound token is only taken with a proof of the key; as a Bearer token it is refused.
        if (presented.scheme !== "dpop") throw refuse("this token is bound to a device key: send it with DPoP");
        const proof = request.headers.dpop;
        await acceptProof(app.db, typeof proof === "string" ? proof : undefined, {
          method: request.method,
          url: `${origin}${request.url.split("?")[0]}`,
          accessToken: presented.token,
          jkt,
          now: Date.now(),
        });
      } else if (presented.scheme === "dpop") {
        throw refuse("this token is not bound to a key: send it as a Bearer token");
      }
      request.endUser = await profiles.callerOf(claims);
      return request.endUser;
    });
  },
  { name: "profiles", dependencies: ["database", "signing-keys", "revocations"] },
);
