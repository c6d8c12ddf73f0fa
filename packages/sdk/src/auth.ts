import { createRemoteJWKSet, customFetch, errors as joseErrors, jwtVerify } from "jose";
import { IpaasError } from "./errors.js";
import type { Call, Fetch, Http } from "./http.js";
import type { PartnerToken, PartnerTokens } from "./partner-token.js";

/** `sms` (the seed's `mobile` is the same), `email` or `whatsapp`. */
export type Channel = "sms" | "mobile" | "email" | "whatsapp";

/** What `sendOtp` answers (the API's field names). */
export interface SendOtpResponse {
  requestId: string;
  channel: string;
  /** Seconds the code stays valid. */
  expiresIn: number;
  /** Seconds before another code may go to this destination. */
  resendAfter: number;
}

/** What `verifyOtp` answers: the person's userId at this organization and the token for their device. */
export interface VerifyOtpResponse {
  userId: string;
  token: string;
  /** `DPoP` when the token is bound to the device's key (`deviceKey`), else `Bearer`. */
  tokenType: "Bearer" | "DPoP";
  expiresIn: number;
  isNewUser: boolean;
}

export interface VerifyByRequest {
  requestId: string;
  code: string;
  /** The public key (JWK) the person's app generated, to bind the token to (RFC 9449). */
  deviceKey?: Record<string, unknown>;
}

export type TokenStatus = { active: false } | { active: true; userId: string; expiresAt: string };

export interface RequestStatus {
  requestId: string;
  channel: string;
  status: "queued" | "sent" | "failed";
  createdAt: string;
  sentAt: string | null;
  expiresAt: string;
}

/** A user token checked here, against the published keys. */
export interface VerifiedUserToken {
  userId: string;
  organizationId: string;
  expiresAt: Date;
}

/** The user token's audience: no other token of the platform has it. */
const USER_AUDIENCE = "ipaas-user-api";
/** The longest an organization may let its users' tokens live (a day): none older is accepted. */
const USER_TOKEN_MAX_AGE_SECONDS = 86_400;

interface Discovery {
  issuer: string;
  jwks: ReturnType<typeof createRemoteJWKSet>;
}

/** Signing in the organization's users with one-time codes, and checking their tokens. */
export class Auth {
  #discovery: Promise<Discovery> | null = null;

  constructor(
    private readonly http: Http,
    private readonly tokens: PartnerTokens,
    private readonly fetch: Fetch,
  ) {}

  /**
   * Sends a one-time code to a phone number (E.164, or national in the organization's default country) or an
   * email address. Never sent twice by this library: a failure is reported, not retried.
   */
  sendOtp(channel: Channel, destination: string, options: { endUserIp?: string } = {}): Promise<SendOtpResponse> {
    return this.#partnerCall({
      method: "POST",
      path: "/v1/otp/send",
      json: { channel, destination, ...options },
      repeatable: false,
    });
  }

  /** Checks the code the person typed: by channel and destination (the latest code sent there) or by request. */
  verifyOtp(channel: Channel, destination: string, code: string): Promise<VerifyOtpResponse>;
  verifyOtp(request: VerifyByRequest): Promise<VerifyOtpResponse>;
  verifyOtp(first: Channel | VerifyByRequest, destination?: string, code?: string): Promise<VerifyOtpResponse> {
    const json = typeof first === "object" ? first : { channel: first, destination, code };
    return this.#partnerCall({ method: "POST", path: "/v1/otp/verify", json, repeatable: false });
  }

  /** Whether a user token of this organization's users is still active (signed out, forgotten, expired…). */
  tokenStatus(userToken: string): Promise<TokenStatus> {
    return this.#partnerCall({
      method: "POST",
      path: "/v1/otp/token-status",
      json: { token: userToken },
      repeatable: true,
    });
  }

  /** Where the delivery of a code stands. */
  requestStatus(requestId: string): Promise<RequestStatus> {
    return this.#partnerCall({
      method: "GET",
      path: `/v1/otp/requests/${encodeURIComponent(requestId)}`,
      repeatable: true,
    });
  }

  /** The organization forgets one of its users (the person goes when no organization knows them). */
  async forgetUser(userId: string): Promise<void> {
    await this.#partnerCall({
      method: "DELETE",
      path: `/v1/end-users/${encodeURIComponent(userId)}`,
      repeatable: false,
    });
  }

  /**
   * Verifies a user token here, without a call per token: its signature against the published keys (fetched
   * once, again when a token names a key not seen yet), its issuer, audience, type, expiry and age (issued
   * at most a day ago, the longest a user token lives), and that it is one of this organization's users. It
   * does not see a sign-out: `tokenStatus` does.
   */
  async verifyUserToken(userToken: string): Promise<VerifiedUserToken> {
    const [{ issuer, jwks }, partner] = await Promise.all([this.#discover(), this.tokens.get()]);
    let payload: Record<string, unknown>;
    try {
      ({ payload } = await jwtVerify(userToken, jwks, {
        issuer,
        audience: USER_AUDIENCE,
        typ: "at+jwt",
        algorithms: ["EdDSA", "RS256", "ES256"],
        requiredClaims: ["sub", "exp", "iat", "jti"],
        maxTokenAge: USER_TOKEN_MAX_AGE_SECONDS,
      }));
    } catch (error) {
      if (error instanceof joseErrors.JOSEError) throw refusedToken(error.message, error);
      throw error;
    }
    if (payload.org !== partner.organizationId) throw refusedToken("the token is not one of this organization's users");
    return {
      userId: String(payload.sub),
      organizationId: String(payload.org),
      expiresAt: new Date(Number(payload.exp) * 1000),
    };
  }

  /** A call with the partner token; a token refused as no longer active is replaced once. */
  async #partnerCall<T>(call: Call): Promise<T> {
    const send = (token: PartnerToken) =>
      this.http.call<T>({ ...call, headers: { ...call.headers, authorization: `Bearer ${token.token}` } });
    const token = await this.tokens.get();
    try {
      return await send(token);
    } catch (error) {
      if (!(error instanceof IpaasError && error.status === 401 && error.code === "INVALID_TOKEN")) throw error;
      this.tokens.discard(token);
      return send(await this.tokens.get());
    }
  }

  #discover(): Promise<Discovery> {
    this.#discovery ??= this.http
      .call<{ issuer: string; jwks_uri: string }>({
        method: "GET",
        path: "/.well-known/oauth-authorization-server",
        repeatable: true,
      })
      .then((metadata) => ({
        issuer: metadata.issuer,
        jwks: createRemoteJWKSet(new URL(metadata.jwks_uri), { [customFetch]: this.fetch }),
      }))
      .catch((error: unknown) => {
        this.#discovery = null;
        throw error;
      });
    return this.#discovery;
  }
}

function refusedToken(detail: string, cause?: unknown): IpaasError {
  return new IpaasError({
    code: "INVALID_TOKEN",
    status: 401,
    detail,
    message: `user token refused: ${detail}`,
    cause,
  });
}
