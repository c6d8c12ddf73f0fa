import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import type {
  FastifyRequest,
  FastifySchema,
  RawRequestDefaultExpression,
  RawServerDefault,
  RouteGenericInterface,
} from "fastify";
import Type, { type Static } from "typebox";

/*
 * The OAuth endpoints' request and response schemas. The response schemas are also the serializer's
 * allow-list: a field not listed here never leaves the service.
 */

const FORM_AND_JSON = ["application/x-www-form-urlencoded", "application/json"];

/** RFC 6749 §5.2 (and RFC 7009 §2.2.1, RFC 7662 §2.3): how every OAuth endpoint reports an error. */
const OAuthErrorBody = Type.Object(
  {
    error: Type.String({
      description:
        "invalid_request, invalid_client, unsupported_grant_type, invalid_scope, " +
        "too_many_requests, temporarily_unavailable (503) or server_error",
    }),
    error_description: Type.Optional(Type.String()),
  },
  { description: "An OAuth 2.0 error (RFC 6749 §5.2)" },
);

/** OAuth parameters travel in the body only; a request with any query parameter is refused. */
const NoQuery = Type.Object({}, { additionalProperties: false });

const ClientCredentialFields = {
  client_id: Type.Optional(
    Type.String({ description: "client_secret_post: the client key (omit when using HTTP Basic)" }),
  ),
  client_key: Type.Optional(Type.String({ description: "The seed contract's name for client_id" })),
  client_secret: Type.Optional(
    Type.String({ description: "client_secret_post: the client secret (omit when using HTTP Basic)" }),
  ),
};

const TokenRequestBody = Type.Object(
  {
    grant_type: Type.Optional(
      Type.String({ description: "client_credentials (required in the form; the seed's JSON may omit it)" }),
    ),
    scope: Type.Optional(Type.String({ description: "Space-separated scopes; omitted means all the client's" })),
    scopes: Type.Optional(
      Type.Union([Type.String(), Type.Array(Type.String())], {
        description: "The seed contract's name for scope: a space-separated string or an array",
      }),
    ),
    ...ClientCredentialFields,
  },
  {
    description:
      "Form (RFC 6749 §4.4.2) or the seed's JSON. The client authenticates with HTTP Basic " +
      "(client_secret_basic) or with client_id and client_secret in the body (client_secret_post), never both.",
  },
);

export const TokenResponse = Type.Object({
  access_token: Type.String({ description: "An EdDSA-signed JWT, typ at+jwt (RFC 9068)" }),
  token_type: Type.Literal("Bearer"),
  expires_in: Type.Integer({ description: "Seconds until the token expires" }),
  scope: Type.String({ description: "The granted scopes, space-separated" }),
  created_at: Type.String({ format: "date-time", description: "When the token was issued" }),
});
export type TokenResponse = Static<typeof TokenResponse>;

const IntrospectionRequestBody = Type.Object({
  token: Type.String({ description: "The access token to introspect" }),
  token_type_hint: Type.Optional(Type.String({ description: "Accepted and ignored: there is one kind of token" })),
  ...ClientCredentialFields,
});

export const IntrospectionResponse = Type.Object(
  {
    active: Type.Boolean(),
    scope: Type.Optional(Type.String()),
    client_id: Type.Optional(Type.String()),
    sub: Type.Optional(Type.String({ description: "The organization id" })),
    aud: Type.Optional(Type.String()),
    iss: Type.Optional(Type.String()),
    exp: Type.Optional(Type.Integer()),
    iat: Type.Optional(Type.Integer()),
    jti: Type.Optional(Type.String()),
    token_type: Type.Optional(Type.Literal("Bearer")),
  },
  { description: "RFC 7662 §2.2; an inactive token is only { active: false }" },
);
export type IntrospectionResponse = Static<typeof IntrospectionResponse>;

const RevocationRequestBody = Type.Object({
  token: Type.String({ description: "The access token to revoke" }),
  token_type_hint: Type.Optional(Type.String({ description: "Accepted and ignored: there is one kind of token" })),
  ...ClientCredentialFields,
});

const errorResponses = {
  400: OAuthErrorBody,
  401: OAuthErrorBody,
  429: OAuthErrorBody,
};

/** HTTP Basic, or (the empty requirement) the credentials in the body. */
const security: Array<Record<string, string[]>> = [{ basic: [] }, {}];

export const tokenRoute = {
  tags: ["oauth"],
  summary: "Issue an access token (client credentials grant, RFC 6749 §4.4)",
  consumes: FORM_AND_JSON,
  security,
  querystring: NoQuery,
  body: TokenRequestBody,
  response: { 200: TokenResponse, ...errorResponses },
};

export const introspectionRoute = {
  tags: ["oauth"],
  summary: "Introspect one of the calling client's tokens (RFC 7662)",
  consumes: FORM_AND_JSON,
  security,
  querystring: NoQuery,
  body: IntrospectionRequestBody,
  response: { 200: IntrospectionResponse, ...errorResponses },
};

export const revocationRoute = {
  tags: ["oauth"],
  summary: "Revoke one of the calling client's tokens (RFC 7009)",
  consumes: FORM_AND_JSON,
  security,
  querystring: NoQuery,
  body: RevocationRequestBody,
  response: {
    200: {
      description: "Revoked, or nothing to revoke: the answer is the same empty object",
      type: "object",
      additionalProperties: false,
    },
    ...errorResponses,
  },
};

/** RFC 8414 authorization server metadata. */
export const AuthorizationServerMetadata = Type.Object({
  issuer: Type.String(),
  token_endpoint: Type.String(),
  introspection_endpoint: Type.String(),
  revocation_endpoint: Type.String(),
  jwks_uri: Type.String(),
  grant_types_supported: Type.Array(Type.String()),
  response_types_supported: Type.Array(Type.String()),
  token_endpoint_auth_methods_supported: Type.Array(Type.String()),
  introspection_endpoint_auth_methods_supported: Type.Array(Type.String()),
  revocation_endpoint_auth_methods_supported: Type.Array(Type.String()),
  service_documentation: Type.String(),
});
export type AuthorizationServerMetadata = Static<typeof AuthorizationServerMetadata>;

export const metadataRoute = {
  tags: ["oauth"],
  summary: "OAuth 2.0 authorization server metadata (RFC 8414)",
  response: { 200: AuthorizationServerMetadata },
};

/** The request a route with schema `S` receives: its body, query and params typed from the schema itself. */
export type RequestOf<S extends FastifySchema> = FastifyRequest<
  RouteGenericInterface,
  RawServerDefault,
  RawRequestDefaultExpression,
  S,
  TypeBoxTypeProvider
>;
