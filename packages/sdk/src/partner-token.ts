import type { ClientCredentials } from "./api-key.js";
import type { Http } from "./http.js";

/** A partner access token, and the organization it is for (its `sub`). */
export interface PartnerToken {
  token: string;
  organizationId: string;
  expiresAt: number;
}

/** A token is renewed this long before it expires, so none is sent in its last seconds. */
const RENEW_BEFORE_MS = 60_000;

/** RFC 6749 §2.3.1: the client key and secret are form-encoded inside Basic. */
function basic({ clientKey, clientSecret }: ClientCredentials): string {
  const encode = (value: string) => encodeURIComponent(value).replaceAll("%20", "+");
  return `Basic ${Buffer.from(`${encode(clientKey)}:${encode(clientSecret)}`).toString("base64")}`;
}

/**
 * The organization's partner access token, by client credentials: fetched once and reused until shortly
 * before it expires; calls that need one while it is being fetched wait for the same request.
 */
export class PartnerTokens {
  #current: PartnerToken | null = null;
  #pending: Promise<PartnerToken> | null = null;

  constructor(
    private readonly http: Http,
    private readonly credentials: ClientCredentials,
    private readonly scope: string,
    private readonly now: () => number = Date.now,
  ) {}

  async get(): Promise<PartnerToken> {
    const current = this.#current;
    if (current && current.expiresAt - RENEW_BEFORE_MS > this.now()) return current;
    this.#pending ??= this.#fetch().finally(() => {
      this.#pending = null;
    });
    return this.#pending;
  }

  /** Forgets `token` (refused by the API: expired early, revoked, or the secret rotated), unless replaced. */
  discard(token: PartnerToken): void {
    if (this.#current === token) this.#current = null;
  }

  async #fetch(): Promise<PartnerToken> {
    const answer = await this.http.call<{ access_token: string; expires_in: number }>({
      method: "POST",
      path: "/v1/auth/token",
      headers: { authorization: basic(this.credentials) },
      form: { grant_type: "client_credentials", scope: this.scope },
      repeatable: true,
    });
    const claims = JSON.parse(Buffer.from(answer.access_token.split(".")[1] ?? "", "base64url").toString("utf8"));
    this.#current = {
      token: answer.access_token,
      organizationId: String(claims.sub),
      expiresAt: this.now() + answer.expires_in * 1000,
    };
    return this.#current;
  }
}
