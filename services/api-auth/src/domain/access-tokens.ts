import { setTimeout as sleep } from "node:timers/promises";
import type { Db } from "@ipaas/db";
import { InvalidTokenError, type TokenService, writeAudit } from "@ipaas/service-kit";
import { isRevoked, recordRevocation } from "../repositories/revoked-tokens";
import { type ClientRecord, issuedBeforeCutoff, organizationInGoodStanding } from "./clients";

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
    await this.#waitForCutoff(client);
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
   */
  async introspect(token: string, caller: ClientRecord): Promise<Introspection> {
    const claims = await this.#ownClaims(token, caller);
    if (claims === null) return INACTIVE;
    if (!organizationInGoodStanding(caller) || issuedBeforeCutoff(caller, claims.iat)) return INACTIVE;
    if (await isRevoked(this.deps.db, claims.jti)) return INACTIVE;
    return { active: true, token_type: "Bearer", ...claims };
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

  /**
   * `iat` has one-second precision and a token from the cut-off's own second counts as issued before it;
   * a token asked for just after a cut-off is therefore signed once that second is over, so it is not
   * born inactive. The wait is under a second and only happens right after a revocation.
   */
  async #waitForCutoff(client: ClientRecord): Promise<void> {
    const cutoff = client.tokensNotBefore?.getTime();
    if (cutoff === undefined) return;
    const firstUsableSecond = Math.ceil(cutoff / 1000) * 1000;
    for (let attempts = 0; attempts < 3; attempts++) {
      const wait = firstUsableSecond - this.#now();
      if (wait <= 0 || wait > 1000) return;
      await sleep(wait + 1);
    }
  }
}
