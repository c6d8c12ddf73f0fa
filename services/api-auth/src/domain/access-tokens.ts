import type { Db } from "@ipaas/db";
import { writeAudit } from "@ipaas/domain";
import { InvalidTokenError, issuedBefore, type TokenService, waitPastCutoff } from "@ipaas/service-kit";
import { isRevoked, recordRevocation } from "../repositories/revoked-tokens";
import { type ClientRecord, organizationInGoodStanding } from "./clients";

/** The JOSE `typ` of partner access tokens (RFC 9068 §2.1). */
const ACCESS_TOKEN_TYPE = "at+jwt";
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
  db: Db;
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

  async issue(client: ClientRecord, scopes: readonly string[]): Promise<IssuedAccessToken> {
    // A token asked for just after a cut-off is signed once that second is over, not born inactive.
    await waitPastCutoff(client.tokensNotBefore, this.#now);
    const scope = scopes.join(" ");
    const issued = this.deps.tokens.sign(
      { client_id: client.clientKey, scope },
      {
        typ: ACCESS_TOKEN_TYPE,
        audience: this.deps.audience,
        subject: client.organizationId,
        ttlSeconds: this.deps.ttlSeconds,
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
    if (claims === null) return INACTIVE;
    if (!organizationInGoodStanding(caller) || issuedBefore(claims.iat, caller.tokensNotBefore)) return INACTIVE;
    const scope = scopesStillGranted(claims.scope, caller.scopes);
    if (scope === null) return INACTIVE;
    if (await isRevoked(this.deps.db, claims.jti)) return INACTIVE;
    return { active: true, token_type: "Bearer", ...claims, scope };
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
    await this.deps.db.$transaction(async (tx) => {
      await recordRevocation(tx, {
        jti: claims.jti,
        subject: caller.organizationId,
        expiresAt: new Date(claims.exp * 1000),
      });
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
      ({ claims } = await this.deps.tokens.verify(token, { typ: [ACCESS_TOKEN_TYPE], audience: this.deps.audience }));
    } catch (error) {
      if (error instanceof InvalidTokenError) return null;
      throw error;
    }
    const { iss, sub, aud, client_id, scope, iat, exp, jti } = claims;
    if (
      typeof iss !== "string" ||
      typeof aud !== "string" ||
      typeof scope !== "string" ||
      typeof iat !== "number" ||
      typeof exp !== "number" ||
      typeof jti !== "string" ||
      client_id !== caller.clientKey ||
      sub !== caller.organizationId
    ) {
      return null;
    }
    return { iss, sub, aud, client_id, scope, iat, exp, jti };
  }
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
