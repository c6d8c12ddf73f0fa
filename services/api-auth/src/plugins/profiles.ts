import { bearerAuthenticator, bearerToken, claimsOrRefuse } from "@ipaas/service-kit";
import type { FastifyInstance, FastifyRequest } from "fastify";
import fp from "fastify-plugin";
import { AppOrigins } from "../domain/end-users/app-origins";
import { USER_TOKEN_KIND } from "../domain/end-users/one-time-codes";
import { Profiles, type UserCaller } from "../domain/end-users/profiles";
import { fail } from "../errors";

declare module "fastify" {
  interface FastifyInstance {
    profiles: Profiles;
    /** The person calling with their user token (the JWT, or the JWT Base64-encoded); refuses 401. */
    userCaller(request: FastifyRequest): Promise<UserCaller>;
    appOrigins: AppOrigins;
  }
  interface FastifyRequest {
    /** Set once `userCaller` has authenticated the request. */
    endUser: UserCaller | null;
  }
}

const JWT = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

/** The user token of a request: the Bearer value, or the JWT it encodes in Base64 (the seed's form). */
function userToken(request: FastifyRequest): string | null {
  const value = bearerToken(request);
  if (!value || JWT.test(value)) return value;
  const decoded = Buffer.from(value, "base64").toString("utf8").trim();
  return JWT.test(decoded) ? decoded : value;
}

/** The end-user profile API and the user-token authentication its routes use. */
export const profilesPlugin = fp(
  async (app: FastifyInstance) => {
    const profiles = new Profiles(app.db, app.masterKey);
    app.decorate("profiles", profiles);
    app.decorate("appOrigins", new AppOrigins(app.db));
    app.decorateRequest("endUser", null);
    const user = await bearerAuthenticator(app, "user", USER_TOKEN_KIND, userToken);
    app.decorate("userCaller", async (request: FastifyRequest) => {
      const claims = await claimsOrRefuse(user, request, "user", (detail) => fail("INVALID_TOKEN", detail));
      request.endUser = await profiles.callerOf(claims);
      return request.endUser;
    });
  },
  { name: "profiles", dependencies: ["database", "signing-keys"] },
);
