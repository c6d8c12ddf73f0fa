import { createPrivateKey, sign as cryptoSign, type SignKeyObjectInput } from "node:crypto";
import { promisify } from "node:util";
import { createDecoder, createVerifier } from "fast-jwt";
import { newId } from "../ids";
import { isSigningAlgorithm, SIGNING_ALGORITHMS, type SigningAlgorithm, type SigningKeyStore } from "./signing-keys";

export interface SignOptions {
  /** The JOSE `typ` header naming the kind of token (RFC 8725 §3.11), e.g. `at+jwt`. */
  typ: string;
  audience: string;
  subject: string;
  ttlSeconds: number;
  /** The algorithm to sign with (EdDSA unless set): one the key store keeps keys for. */
  alg?: SigningAlgorithm;
}

export interface IssuedToken {
  token: string;
  jti: string;
  issuedAt: Date;
  expiresAt: Date;
}

export interface VerifyOptions {
  /** The token kinds this caller accepts; a token of any other kind is refused (RFC 8725 §3.12). */
  typ: readonly string[];
  audience: string;
  /**
   * The longest lifetime (`exp - iat`) this kind of token is issued with; longer ones are refused. Defaults
   * to the key store's `maxTokenTtlSeconds`, the longest of any kind, and may only be shorter.
   */
  maxTtlSeconds?: number;
}

export type Claims = Record<string, unknown> & {
  iss: string;
  sub: string;
  aud: string | string[];
  exp: number;
  iat: number;
  jti: string;
};

export interface VerifiedToken {
  claims: Claims;
  typ: string;
  kid: string;
}

export class InvalidTokenError extends Error {
  override name = "InvalidTokenError";
  constructor(readonly reason: string) {
    super(`invalid token: ${reason}`);
  }
}

/** Header parameters that would make a verifier fetch or trust a key named by the token itself. */
const FORBIDDEN_HEADERS = ["jku", "x5u", "jwk", "x5c", "crit"] as const;
const FAILURE_REASONS: Record<string, string> = {
  FAST_JWT_EXPIRED: "expired",
  FAST_JWT_INACTIVE: "not yet valid",
  FAST_JWT_INVALID_SIGNATURE: "bad signature",
  FAST_JWT_MISSING_SIGNATURE: "bad signature",
  FAST_JWT_INVALID_CLAIM_VALUE: "wrong issuer or audience",
  FAST_JWT_MISSING_REQUIRED_CLAIM: "missing claim",
  FAST_JWT_MALFORMED: "malformed",
};
const RESERVED = new Set(["iss", "sub", "aud", "exp", "iat", "nbf", "jti"]);
/**
 * How far in the future a token's `iat` may be: instances' clocks differ by a little, never by more. A later
 * `iat` means a forged or broken token, and one with a far-future `iat` and `exp` would stay valid for as
 * long as its signer chose.
 */
export const MAX_CLOCK_SKEW_SECONDS = 60;

/** One key and token kind's signing material: the encoded header, and the key as `crypto.sign` takes it. */
interface Signer {
  encodedHeader: string;
  /** The digest (RS256, ES256), or null for EdDSA, which hashes by itself. */
  digest: "sha256" | null;
  key: SignKeyObjectInput;
}
/** `crypto.sign` with a callback runs on libuv's thread pool, off the event loop. */
const signOnThreadPool = promisify(cryptoSign) as (
  digest: string | null,
  data: Buffer,
  key: SignKeyObjectInput,
) => Promise<Buffer>;
type Verifier = (token: string) => { header: Record<string, unknown>; payload: Claims };
/** A token split and parsed, nothing verified yet. */
export interface DecodedToken {
  header: Record<string, unknown>;
  payload: Record<string, unknown>;
}

/** The reason a verifier's error stands for, for logs and the problem's detail. */
export function failureReason(error: unknown): string {
  if (error instanceof InvalidTokenError) return error.reason;
  return FAILURE_REASONS[(error as { code?: string }).code ?? ""] ?? "invalid";
}

/**
 * Signs and verifies this service's JWTs (EdDSA, or RS256 / ES256 where asked for). One signer and one
 * verifier are built per key id and token kind and then reused, so the hot path costs one signature
 * operation. A token is verified only with the key its `kid` names, and only under that key's algorithm.
 *
 * No token lives longer than the key store's `maxTokenTtlSeconds`: longer ones are neither signed nor
 * accepted, so a token minted with a leaked or misused key cannot be given an arbitrary lifetime.
 */
export class TokenService {
  readonly #signers = new Map<string, Signer>();
  readonly #verifiers = new Map<string, Verifier>();
  readonly #decode = createDecoder({ complete: true });

  constructor(
    private readonly keys: SigningKeyStore,
    readonly issuer: string,
    private readonly clock: () => number = Date.now,
  ) {}

  /**
   * Signs a token (a compact JWS). The signature is computed on libuv's thread pool: it is the largest
   * piece of work in issuing a token, and off the event loop it runs beside the next request's parsing.
   */
  async sign(claims: Record<string, unknown>, options: SignOptions): Promise<IssuedToken> {
    const key = this.keys.signingKey(options.alg);
    const signerId = `${key.kid}:${options.typ}`;
    let signer = this.#signers.get(signerId);
    if (!signer) {
      const privateKey = createPrivateKey(key.privateKeyPem);
      const header = { alg: key.alg, typ: options.typ, kid: key.kid };
      signer = {
        encodedHeader: Buffer.from(JSON.stringify(header)).toString("base64url"),
        digest: key.alg === "EdDSA" ? null : "sha256",
        // JWS wants ECDSA signatures as r‖s (RFC 7518 §3.4), not DER.
        key: key.alg === "ES256" ? { key: privateKey, dsaEncoding: "ieee-p1363" } : { key: privateKey },
      };
      this.#signers.set(signerId, signer);
    }
    for (const name of Object.keys(claims)) {
      if (RESERVED.has(name)) throw new Error(`claim ${name} is set by the token service`);
    }
    if (options.ttlSeconds > this.keys.maxTokenTtlSeconds) {
      // verify() would refuse such a token: the service's maxTokenTtlSeconds must cover every lifetime it issues.
      throw new Error(`a ${options.ttlSeconds} s token exceeds ${this.keys.service}'s maxTokenTtlSeconds`);
    }
    const iat = Math.floor(this.clock() / 1000);
    const exp = iat + options.ttlSeconds;
    const jti = newId("jti");
    const payload = { ...claims, iss: this.issuer, sub: options.subject, aud: options.audience, iat, exp, jti };
    const signingInput = `${signer.encodedHeader}.${Buffer.from(JSON.stringify(payload)).toString("base64url")}`;
    const signature = await signOnThreadPool(signer.digest, Buffer.from(signingInput), signer.key);
    const token = `${signingInput}.${signature.toString("base64url")}`;
    return { token, jti, issuedAt: new Date(iat * 1000), expiresAt: new Date(exp * 1000) };
  }

  /**
   * Verifies signature, issuer, expiry, kind, audience, that `iat` is not in the future and that the
   * lifetime is one this service gives; throws InvalidTokenError with the reason. For tokens that arrive in
   * a body; a request's own `Authorization` header goes through `bearerAuthenticator`, which applies the
   * same `publicKeyFor` and `verifierOptions`.
   */
  async verify(token: string, options: VerifyOptions): Promise<VerifiedToken> {
    let decoded: DecodedToken;
    try {
      decoded = this.#decode(token) as DecodedToken;
    } catch {
      throw new InvalidTokenError("malformed");
    }
    const publicKeyPem = await this.publicKeyFor(decoded, options);
    const verifierId = `${decoded.header.kid}\n${options.audience}`;
    let verifier = this.#verifiers.get(verifierId);
    if (!verifier) {
      verifier = createVerifier({ ...this.verifierOptions(options), key: publicKeyPem, complete: true }) as Verifier;
      this.#verifiers.set(verifierId, verifier);
    }
    let payload: Claims;
    try {
      payload = verifier(token).payload;
    } catch (error) {
      throw new InvalidTokenError(failureReason(error));
    }
    return { claims: payload, typ: decoded.header.typ as string, kid: decoded.header.kid as string };
  }

  /**
   * The checks that need no signature, then the public key of the token's `kid`. A token that fails any of
   * them is refused before a signature is checked; one that passes still has its signature, issuer,
   * audience and expiry verified with the returned key.
   */
  async publicKeyFor({ header, payload }: DecodedToken, options: VerifyOptions): Promise<string> {
    if (!isSigningAlgorithm(header.alg)) throw new InvalidTokenError("algorithm not allowed");
    if (FORBIDDEN_HEADERS.some((h) => h in header)) throw new InvalidTokenError("header not allowed");
    const { kid, typ } = header;
    if (typeof kid !== "string") throw new InvalidTokenError("no key id");
    if (typeof typ !== "string" || !options.typ.includes(typ)) throw new InvalidTokenError("wrong token type");
    if (payload.iss !== this.issuer) throw new InvalidTokenError("wrong issuer");
    const audiences = Array.isArray(payload.aud) ? payload.aud : [payload.aud];
    if (!audiences.includes(options.audience)) throw new InvalidTokenError("wrong audience");
    this.#checkLifetime(
      payload,
      Math.min(options.maxTtlSeconds ?? Number.POSITIVE_INFINITY, this.keys.maxTokenTtlSeconds),
    );
    const key = await this.keys.verificationKey(kid);
    if (!key) throw new InvalidTokenError("unknown key");
    // The key decides the algorithm, never the token: an RS256 header on an Ed25519 key id is refused.
    if (key.alg !== header.alg) throw new InvalidTokenError("algorithm not allowed");
    return key.publicKeyPem;
  }

  /** What a verifier of tokens of this kind checks once it holds the key. */
  verifierOptions(options: VerifyOptions) {
    return {
      algorithms: [...SIGNING_ALGORITHMS],
      allowedIss: this.issuer,
      allowedAud: options.audience,
      requiredClaims: ["iss", "sub", "aud", "exp", "iat", "jti"],
      cache: false,
    };
  }

  /** The verifier checks `exp` and `nbf`, not `iat`: a token must also be issued by now and live no longer than ours. */
  #checkLifetime({ iat, exp }: Record<string, unknown>, maxTtlSeconds: number): void {
    if (typeof iat !== "number" || typeof exp !== "number" || !Number.isFinite(iat) || !Number.isFinite(exp)) {
      throw new InvalidTokenError("malformed");
    }
    if (iat > this.clock() / 1000 + MAX_CLOCK_SKEW_SECONDS) throw new InvalidTokenError("issued in the future");
    if (exp - iat > maxTtlSeconds) throw new InvalidTokenError("lifetime too long");
  }
}
