import { type OtpSettings, writeAudit } from "@ipaas/domain";
import {
  InvalidTokenError,
  issuedBefore,
  type SigningAlgorithm,
  type TokenService,
  waitPastCutoff,
} from "@ipaas/service-kit";
import { fail } from "../errors";
import { type ClientRecord, organizationInGoodStanding } from "./clients";
import type { Revocations } from "./revocations";

/** The organization calling with a partner access token. */
export interface PartnerCaller {
  organizationId: string;
  /** Its one-time-code settings when the caller already holds them (the client cache); else they are read. */
  otp?: OtpSettings;
  /** The algorithm its tokens are signed with (EdDSA when not known). */
  signingAlg?: SigningAlgorithm;
}

/** The JOSE `typ` of partner access tokens (RFC 9068 §2.1). */
export const ACCESS_TOKEN_TYPE = "at+jwt";
/** Anything longer is not one of our tokens; it is refused without being parsed. */
const MAX_TOKEN_LENGTH = 8192;

export interface IssuedAccessToken {
  token: string;
  jti: string;
  scope: string;
  issuedAt: Date;
  expiresAt: Date;
  expiresIn: number;
}

/** The RFC 9068 claims of a partner access token. */
export interface AccessTokenClaims {
  iss: string;
  sub: string;
  aud: string;
  client_id: string;
  scope: string;
  iat: number;
  exp: number;
  jti: string;
}

export type Introspection = { active: false } | ({ active: true; token_type: "Bearer" } & AccessTokenClaims);

const INACTIVE: Introspection = Object.freeze({ active: false });

export interface AccessTokensDeps {
  tokens: TokenService;
  /** Where a client's current state is read (the client cache). */
  clients: { get(clientKey: string): Promise<ClientRecord | null> };
  /** Where revocations are recorded and looked up. */
  revocations: Revocations;
  audience: string;
  ttlSeconds: number;
  now?: () => number;
}

/**
 * Partner access tokens: EdDSA JWTs with `typ: at+jwt` and the RFC 9068 claims. `sub` is the organization
 * id (`org_…`, so it cannot collide with an end user's id) and `client_id` its client key.
 */
export class AccessTokens {
  readonly #now: () => number;

  constructor(private readonly deps: AccessTokensDeps) {
    this.#now = deps.now ?? Date.now;
  }

  /** What a partner access token is verified as: its kind, audience and lifetime. */
  get kind() {
    return { typ: [ACCESS_TOKEN_TYPE], audience: this.deps.audience, maxTtlSeconds: this.deps.ttlSeconds };
  }

  async issue(client: ClientRecord, scopes: readonly string[]): Promise<IssuedAccessToken> {
    // A token asked for just after a cut-off is signed once that second is over, not born inactive.
    await waitPastCutoff(client.tokensNotBefore, this.#now);
    const scope = scopes.join(" ");
    const issued = await this.deps.tokens.sign(
      { client_id: client.clientKey, scope },
      {
        typ: ACCESS_TOKEN_TYPE,
        audience: this.deps.audience,
        subject: client.organizationId,
        ttlSeconds: this.deps.ttlSeconds,
        alg: client.signingAlg,
      },
    );
    return { ...issued, scope, expiresIn: this.deps.ttlSeconds };
  }

  /**
   * RFC 7662 for the calling client: active only for a valid, unrevoked token that this same client was
   * issued, while its organization is in good standing and the token postdates the credential's
   * `tokensNotBefore`. Everything else is `{ active: false }`, without saying why.
   *
   * `scope` is what the token still grants: its scopes that the organization holds now (`caller` comes
   * from the client cache, which organization events refresh), so a scope taken from the organization stops
   * working at once rather than when its tokens expire. A token left with none of its scopes is inactive.
   */
  async introspect(token: string, caller: ClientRecord): Promise<Introspection> {
    const claims = await this.#ownClaims(token, caller);
    const active = claims && (await this.#stillActive(claims, caller));
    return active ? { active: true, token_type: "Bearer", ...active } : INACTIVE;
  }

  /**
   * The organization calling with a partner access token (already verified from the request's Bearer
   * header): refused with INVALID_TOKEN unless it is still active as introspection would say, and with
   * INSUFFICIENT_SCOPE unless it still grants `scope`.
   */
  async callerOf(verified: Record<string, unknown>, scope: string): Promise<PartnerCaller> {
    const claims = accessTokenClaims(verified);
    const client = claims && (await this.deps.clients.get(claims.client_id));
    const active =
      claims && client && client.organizationId === claims.sub && (await this.#stillActive(claims, client));
    if (!active) throw fail("INVALID_TOKEN", "the partner token is not active");
    if (!active.scope.split(" ").includes(scope))
      throw fail("INSUFFICIENT_SCOPE", `this route needs the ${scope} scope`);
    return { organizationId: active.sub, otp: client.otp, signingAlg: client.signingAlg };
  }

  /**
   * A token's claims while it is in force for `client`, with `scope` cut to what the organization still
   * holds (`client` comes from the client cache, which organization events refresh, so a scope taken away
   * stops working at once); null when the organization is not in good standing, the token predates the
   * credential's `tokensNotBefore`, it was revoked, or it is left with none of its scopes.
   */
  async #stillActive(claims: AccessTokenClaims, client: ClientRecord): Promise<AccessTokenClaims | null> {
    if (!organizationInGoodStanding(client) || issuedBefore(claims.iat, client.tokensNotBefore)) return null;
    const scope = scopesStillGranted(claims.scope, client.scopes);
    if (scope === null) return null;
    if (await this.deps.revocations.isRevoked(claims.jti)) return null;
    return { ...claims, scope };
  }

  /**
   * RFC 7009: revokes a token of the calling client until it would have expired. A token that is not
   * the caller's (or not a token at all) is left alone; the caller is told nothing either way.
   * Returns whether a token was revoked.
   */
  async revoke(
    token: string,
    caller: ClientRecord,
    origin: { ip: string | null; userAgent: string | null },
  ): Promise<boolean> {
    const claims = await this.#ownClaims(token, caller);
    if (claims === null) return false;
    const revocation = {
      jti: claims.jti,
      organizationId: caller.organizationId,
      subject: caller.organizationId,
      expiresAt: new Date(claims.exp * 1000),
    };
    await this.deps.revocations.revoke(revocation, async (tx) => {
      await writeAudit(
        tx,
        {
          action: "oauth.token_revoked",
          outcome: "success",
          actorType: "client",
          actorId: caller.clientKey,
          tenantId: caller.organizationId,
          targetType: "access_token",
          targetId: claims.jti,
        },
        origin,
      );
    });
    return true;
  }

  /** The claims of a token this service issued to `caller` as a partner access token, or null. */
  async #ownClaims(token: string, caller: ClientRecord): Promise<AccessTokenClaims | null> {
    if (token.length > MAX_TOKEN_LENGTH) return null;
    let claims: Record<string, unknown>;
    try {
      // Checks signature, algorithm, issuer, expiry, `typ` and audience: dashboard and end-user tokens fail here.
      ({ claims } = await this.deps.tokens.verify(token, this.kind));
    } catch (error) {
      if (error instanceof InvalidTokenError) return null;
      throw error;
    }
    const own = accessTokenClaims(claims);
    return own && own.client_id === caller.clientKey && own.sub === caller.organizationId ? own : null;
  }
}

/** The RFC 9068 claims of a verified token, or null when one is missing or of the wrong type. */
function accessTokenClaims(claims: Record<string, unknown>): AccessTokenClaims | null {
  const { iss, sub, aud, client_id, scope, iat, exp, jti } = claims;
  if (
    typeof iss !== "string" ||
    typeof sub !== "string" ||
    typeof aud !== "string" ||
    typeof client_id !== "string" ||
    typeof scope !== "string" ||
    typeof iat !== "number" ||
    typeof exp !== "number" ||
    typeof jti !== "string"
  ) {
    return null;
  }
  return { iss, sub, aud, client_id, scope, iat, exp, jti };
}

/**
 * The token's scopes that the organization still holds, in the token's order, as a `scope` value; null
 * when the token had scopes and the organization holds none of them any more.
 */
function scopesStillGranted(tokenScope: string, organizationScopes: readonly string[]): string | null {
  const held = new Set(organizationScopes);
  const granted = tokenScope.split(" ").filter((scope) => scope !== "");
  const remaining = granted.filter((scope) => held.has(scope));
  return granted.length > 0 && remaining.length === 0 ? null : remaining.join(" ");
}
