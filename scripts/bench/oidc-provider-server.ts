// The Node peer of the token scenario: panva's oidc-provider 9, configured as the closest equivalent of
// api-auth's token endpoint, and nothing more. One confidential client authenticated with
// client_secret_basic, the client_credentials grant only, and RFC 9068 access tokens (`typ: at+jwt`) signed
// with an Ed25519 key (EdDSA), carrying the same scopes, audience and lifetime as api-auth's. Like api-auth
// with a warm client cache, it touches no storage per token: JWT access tokens are not saved, so the default
// in-memory adapter holds nothing. `run.ts` starts it as a child process, like the services and the baseline,
// so each side pays for one process on the same cores.
//
// Environment: BENCH_PORT, BENCH_CLIENT_ID, BENCH_CLIENT_SECRET, BENCH_AUDIENCE, BENCH_SCOPE (space-separated).
import { generateKeyPairSync } from "node:crypto";

function required(name: string): string {
  const value = process.env[name];
  if (value === undefined || value === "") throw new Error(`${name} is required`);
  return value;
}

/** The little of oidc-provider's API used here: the package ships JavaScript without type declarations. */
interface OidcProviderModule {
  default: new (
    issuer: string,
    configuration: Record<string, unknown>,
  ) => {
    listen(port: number, host: string): { close(done: () => void): void };
  };
  errors: { InvalidTarget: new (description?: string) => Error };
}

const port = Number(required("BENCH_PORT"));
const clientId = required("BENCH_CLIENT_ID");
const clientSecret = required("BENCH_CLIENT_SECRET");
const audience = required("BENCH_AUDIENCE");
const scope = required("BENCH_SCOPE");
/** api-auth's default token lifetime (API_TOKEN_TTL_SECONDS). */
const ttlSeconds = 3600;
/**
 * The one resource server tokens are for. RFC 8707 needs an absolute URI here; the `aud` claim is set apart
 * (below) to api-auth's audience, so the tokens differ only in their issuer, their id and their subject
 * (the client here, the organization in api-auth's).
 */
const resource = "urn:ipaas:partner-api";

// Through a computed specifier, so the type checker uses the declaration above instead of looking for one.
const oidcProvider = "oidc-provider";
const { default: Provider, errors } = (await import(oidcProvider)) as OidcProviderModule;

// A fresh Ed25519 key per run, as the baseline gets one: only the algorithm matters to the comparison.
const signingKey = {
  ...generateKeyPairSync("ed25519").privateKey.export({ format: "jwk" }),
  kid: "key_oidc_provider",
  alg: "EdDSA",
  use: "sig",
};

const provider = new Provider(`http://127.0.0.1:${port}`, {
  clients: [
    {
      client_id: clientId,
      client_secret: clientSecret,
      token_endpoint_auth_method: "client_secret_basic",
      grant_types: ["client_credentials"],
      response_types: [],
      redirect_uris: [],
      scope,
      // It never gets an ID token, but its metadata must still name an algorithm the key set can sign with
      // (the default is RS256, and the only key is Ed25519).
      id_token_signed_response_alg: "EdDSA",
    },
  ],
  clientAuthMethods: ["client_secret_basic"],
  jwks: { keys: [signingKey] },
  // The API's scopes. Leaving out the default `offline_access` also keeps the refresh_token grant off, and
  // with no response type no authorization-code or implicit flow is offered either.
  scopes: scope.split(" "),
  responseTypes: [],
  ttl: { ClientCredentials: ttlSeconds },
  features: {
    clientCredentials: { enabled: true },
    // JWT access tokens are a property of the resource server they are for (RFC 8707): without one, the
    // provider issues opaque tokens and stores them. A request with no `resource` is given this one, so it
    // is asked for the same way as api-auth, whose tokens always have the one audience. useGrantedResource
    // only counts for grants that exchange an earlier one (none is on); it agrees, for the same reason.
    resourceIndicators: {
      enabled: true,
      defaultResource: async () => resource,
      useGrantedResource: async () => true,
      getResourceServerInfo: async (_ctx: unknown, indicator: string) => {
        if (indicator !== resource) throw new errors.InvalidTarget();
        return {
          scope,
          audience,
          accessTokenFormat: "jwt",
          jwt: { sign: { alg: "EdDSA" } },
        };
      },
    },
    // On by default and of no use to a machine-to-machine token endpoint: each would add routes, checks or
    // response headers that api-auth does not have.
    devInteractions: { enabled: false },
    dPoP: { enabled: false },
    pushedAuthorizationRequests: { enabled: false },
    rpInitiatedLogout: { enabled: false },
    userinfo: { enabled: false },
  },
});

const server = provider.listen(port, "127.0.0.1");
process.once("SIGTERM", () => {
  server.close(() => process.exit(0));
});
