import fastifyJwt from "@fastify/jwt";
import type { FastifyInstance, FastifyRequest } from "fastify";
import { bearerToken } from "../bearer";
import { type Claims, type DecodedToken, failureReason, InvalidTokenError, type VerifyOptions } from "./tokens";

/** Authenticates a request by its `Authorization: Bearer` token; throws InvalidTokenError with the reason. */
export type BearerAuthenticator = (request: FastifyRequest) => Promise<Claims>;

/** @fastify/jwt's own refusals, by code, as the reasons `TokenService.verify` gives. */
const PLUGIN_REASONS: Record<string, string> = {
  FST_JWT_BAD_REQUEST: "no bearer token",
  FST_JWT_NO_AUTHORIZATION_IN_HEADER: "no bearer token",
  FST_JWT_AUTHORIZATION_TOKEN_EXPIRED: "expired",
  FST_JWT_AUTHORIZATION_TOKEN_INVALID: "invalid",
  FAST_JWT_MISSING_SIGNATURE: "bad signature",
};

/**
 * Registers one kind of token (its `typ` and audience) with @fastify/jwt under `namespace`, and returns
 * the function that authenticates a request with it. The key comes from `TokenService.publicKeyFor`, by
 * `kid` across the rotating keys, after the header, kind, issuer, audience and lifetime checks; the
 * verifier then checks the signature and claims with `TokenService.verifierOptions`, so a token in a
 * header and one in a body are held to the same rules. @fastify/jwt keeps one verifier per key.
 */
export async function bearerAuthenticator(
  app: FastifyInstance,
  namespace: string,
  kind: VerifyOptions,
  /** Where the token is read from; the `Authorization: Bearer` value by default. */
  extract: (request: FastifyRequest) => string | null = bearerToken,
): Promise<BearerAuthenticator> {
  const { tokens } = app;
  await app.register(fastifyJwt, {
    namespace,
    decoratorName: "bearerClaims",
    secret: {
      public: (_request: FastifyRequest, decoded: unknown) => tokens.publicKeyFor(decoded as DecodedToken, kind),
    },
    decode: { complete: true },
    verify: {
      ...tokens.verifierOptions(kind),
      extractToken: (request: FastifyRequest) => extract(request) ?? undefined,
    },
  });
  const verifyName = `${namespace}JwtVerify`;
  return async (request) => {
    const verify = (request as unknown as Record<string, () => Promise<Claims>>)[verifyName];
    if (!verify) throw new Error(`bearer kind ${namespace} is not registered`);
    try {
      return await verify.call(request);
    } catch (error) {
      const code = (error as { code?: string }).code ?? "";
      if (error instanceof InvalidTokenError) throw error;
      if (code in PLUGIN_REASONS) throw new InvalidTokenError(PLUGIN_REASONS[code] as string);
      if (code.startsWith("FAST_JWT_")) throw new InvalidTokenError(failureReason(error));
      throw error;
    }
  };
}

/**
 * The claims of a request's token of one kind, or the service's own refusal (`refuse`, given what went
 * wrong: how to send the token when there was none, else the reason it was refused). A token that was sent
 * and refused is logged with the reason (never the token): at `warn`, as a possible forgery, unless it
 * merely expired.
 */
export async function claimsOrRefuse(
  authenticate: BearerAuthenticator,
  request: FastifyRequest,
  kind: string,
  refuse: (detail: string) => Error,
): Promise<Claims> {
  try {
    return await authenticate(request);
  } catch (error) {
    if (!(error instanceof InvalidTokenError)) throw error;
    if (error.reason === "no bearer token") throw refuse(`send the ${kind} token as \`Authorization: Bearer <token>\``);
    const fields = { tokenKind: kind, reason: error.reason };
    if (error.reason === "expired") request.log.info(fields, "bearer token refused");
    else request.log.warn(fields, "bearer token refused");
    throw refuse(error.reason);
  }
}
