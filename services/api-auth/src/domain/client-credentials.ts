import { invalidClient, OAuthError } from "./oauth-errors";

/** How a client authenticated: RFC 6749 §2.3.1, the two methods this service supports. */
export type ClientAuthMethod = "client_secret_basic" | "client_secret_post";

export const CLIENT_AUTH_METHODS: readonly ClientAuthMethod[] = ["client_secret_basic", "client_secret_post"];

export interface PresentedClient {
  clientKey: string;
  secret: string;
  method: ClientAuthMethod;
}

/** The credential fields a request body may carry. `client_key` is the seed contract's name for `client_id`. */
export interface BodyCredentials {
  client_id?: string | undefined;
  client_key?: string | undefined;
  client_secret?: string | undefined;
}

/** Longer values are refused before any look-up: real keys are UUIDs and real secrets 43 characters. */
const MAX_CLIENT_KEY = 255;
const MAX_SECRET = 512;
const BASIC = /^basic +([A-Za-z0-9+/]+={0,2}) *$/i;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** RFC 6749 §3.1: a parameter sent without a value is treated as if it were omitted. */
function present(value: string | undefined): string | undefined {
  return value === undefined || value === "" ? undefined : value;
}

/** application/x-www-form-urlencoded decoding of one component (`+` is a space), as §2.3.1 requires inside Basic. */
function formDecode(component: string): string {
  try {
    return decodeURIComponent(component.replaceAll("+", " "));
  } catch {
    throw invalidClient();
  }
}

function decodeBasic(header: string): { clientKey: string; secret: string } {
  const encoded = BASIC.exec(header.trim())?.[1];
  if (encoded === undefined || !BASE64.test(encoded)) throw invalidClient();
  const decoded = Buffer.from(encoded, "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  if (colon < 0) throw invalidClient();
  return { clientKey: formDecode(decoded.slice(0, colon)), secret: formDecode(decoded.slice(colon + 1)) };
}

function bounded(client: { clientKey: string; secret: string }, method: ClientAuthMethod): PresentedClient {
  const { clientKey, secret } = client;
  if (clientKey === "" || secret === "" || clientKey.length > MAX_CLIENT_KEY || secret.length > MAX_SECRET) {
    throw invalidClient();
  }
  return { clientKey, secret, method };
}

/**
 * Reads the client's credentials from exactly one method: the `Authorization: Basic` header
 * (client_secret_basic) or `client_id` + `client_secret` in the body (client_secret_post). Using both
 * at once is `invalid_request` (RFC 6749 §2.3); no credentials at all is `invalid_client`.
 */
export function presentedClient(authorization: string | undefined, body: BodyCredentials): PresentedClient {
  const clientId = present(body.client_id);
  const clientKey = present(body.client_key);
  const secret = present(body.client_secret);
  if (clientId !== undefined && clientKey !== undefined) {
    throw new OAuthError("invalid_request", "send client_id or client_key, not both");
  }
  const bodyKey = clientId ?? clientKey;

  if (authorization !== undefined && authorization !== "") {
    if (secret !== undefined) {
      throw new OAuthError("invalid_request", "use exactly one client authentication method, not Basic and the body");
    }
    const basic = decodeBasic(authorization);
    // A client may repeat its id in the body (RFC 6749 §3.2.1); a different one is a contradiction.
    if (bodyKey !== undefined && bodyKey !== basic.clientKey) {
      throw new OAuthError("invalid_request", "the client named in the body differs from the one in Basic");
    }
    return bounded(basic, "client_secret_basic");
  }
  if (secret !== undefined && bodyKey === undefined) {
    throw new OAuthError("invalid_request", "client_secret was sent without client_id");
  }
  if (bodyKey === undefined || secret === undefined) throw invalidClient();
  return bounded({ clientKey: bodyKey, secret }, "client_secret_post");
}
