import { createHash, createPublicKey, constants as cryptoConstants, type KeyObject, verify } from "node:crypto";
import type { DbOrTx } from "@ipaas/db";
import { fail } from "../../errors";
import { recordProofUse } from "../../repositories/used-proofs";

/*
 * Device binding (RFC 9449, DPoP): a user token can be bound to a key pair the person's app generated, by
 * the key's thumbprint (RFC 7638) in the token's `cnf.jkt`. Every call with a bound token then carries a
 * proof, a small JWT the app signs per request with the private key, which never leaves the device. The
 * organization's backend relays the token but holds no key, so it cannot use it.
 */

/** The signature algorithms a device may use, and the key type each needs. */
const ALGORITHMS = {
  ES256: { kty: "EC", crv: "P-256" },
  EdDSA: { kty: "OKP", crv: "Ed25519" },
  RS256: { kty: "RSA" },
  PS256: { kty: "RSA" },
} as const;
type Algorithm = keyof typeof ALGORITHMS;

/** Named in `WWW-Authenticate`, so a client knows what to sign with. */
export const DPOP_ALGORITHMS = Object.keys(ALGORITHMS).join(" ");

/** A proof is accepted this long after (and, for device clocks running ahead, before) its `iat`. */
const PROOF_WINDOW_SECONDS = 60;
/** Private members: a device key sent with any of them has leaked its secret half. */
const PRIVATE_MEMBERS = ["d", "p", "q", "dp", "dq", "qi", "oth", "k"];
/** RFC 7638: the members a thumbprint covers, per key type, in lexicographic order. */
const THUMBPRINT_MEMBERS = { EC: ["crv", "kty", "x", "y"], OKP: ["crv", "kty", "x"], RSA: ["e", "kty", "n"] } as const;
const MIN_RSA_BITS = 2048;

/** A device's public key, checked: its thumbprint (`cnf.jkt`) and the key itself. */
export interface DeviceKey {
  thumbprint: string;
  key: KeyObject;
  kty: keyof typeof THUMBPRINT_MEMBERS;
}

/** What a proof must match: the request it came with and the token it accompanies. */
export interface ProofContext {
  method: string;
  /** The request's URL without query or fragment, as the client addressed it. */
  url: string;
  accessToken: string;
  /** The thumbprint the token is bound to. */
  jkt: string;
  now: number;
}

/** A checked proof: its `jti`, to be refused if it comes again, and until when it could. */
export interface AcceptedProof {
  jti: string;
  replayableUntil: Date;
}

const invalidKey = (detail: string) => fail("INVALID_DEVICE_KEY", detail);
const invalidProof = (detail: string) =>
  fail("INVALID_DPOP_PROOF", detail, {
    headers: { "www-authenticate": `DPoP error="invalid_dpop_proof", algs="${DPOP_ALGORITHMS}"` },
  });

function base64url(data: Buffer): string {
  return data.toString("base64url");
}

function sha256(value: string): string {
  return base64url(createHash("sha256").update(value).digest());
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * A device's public key as a JWK (EC P-256, Ed25519, or RSA of 2048 bits or more), checked and read;
 * `refuse` says what is wrong with it. A key carrying private members is refused: it is no longer secret.
 */
function readPublicKey(jwk: unknown, refuse: (detail: string) => Error): DeviceKey {
  if (!isRecord(jwk)) throw refuse("the key must be a JWK object");
  const kty = jwk.kty;
  if (kty !== "EC" && kty !== "OKP" && kty !== "RSA") throw refuse("the key type must be EC, OKP or RSA");
  if (PRIVATE_MEMBERS.some((member) => member in jwk)) throw refuse("send the public key only");
  const members = THUMBPRINT_MEMBERS[kty];
  if (!members.every((member) => typeof jwk[member] === "string")) {
    throw refuse(`a ${kty} key needs ${members.join(", ")}`);
  }
  if (kty === "EC" && jwk.crv !== "P-256") throw refuse("an EC key must be on P-256");
  if (kty === "OKP" && jwk.crv !== "Ed25519") throw refuse("an OKP key must be Ed25519");
  let key: KeyObject;
  try {
    key = createPublicKey({ key: Object.fromEntries(members.map((m) => [m, jwk[m]])), format: "jwk" });
  } catch {
    throw refuse("the key is not a valid public key");
  }
  if (kty === "RSA" && (key.asymmetricKeyDetails?.modulusLength ?? 0) < MIN_RSA_BITS) {
    throw refuse(`an RSA key needs at least ${MIN_RSA_BITS} bits`);
  }
  // RFC 7638: the required members only, in lexicographic order, without white space.
  const canonical = JSON.stringify(Object.fromEntries(members.map((m) => [m, jwk[m]])));
  return { thumbprint: sha256(canonical), key, kty };
}

/** The key a device sends at verification: its thumbprint goes into the token's `cnf.jkt`. */
export function deviceKeyOf(jwk: unknown): DeviceKey {
  return readPublicKey(jwk, (detail) => invalidKey(`deviceKey: ${detail}`));
}

function decodePart(part: string | undefined): Record<string, unknown> | null {
  if (!part) return null;
  try {
    const value: unknown = JSON.parse(Buffer.from(part, "base64url").toString("utf8"));
    return isRecord(value) ? value : null;
  } catch {
    return null;
  }
}

function signatureValid(alg: Algorithm, device: DeviceKey, signingInput: string, signature: Buffer): boolean {
  const data = Buffer.from(signingInput);
  switch (alg) {
    case "EdDSA":
      return verify(null, data, device.key, signature);
    case "ES256":
      return verify("sha256", data, { key: device.key, dsaEncoding: "ieee-p1363" }, signature);
    case "RS256":
      return verify("sha256", data, device.key, signature);
    case "PS256":
      return verify(
        "sha256",
        data,
        { key: device.key, padding: cryptoConstants.RSA_PKCS1_PSS_PADDING, saltLength: 32 },
        signature,
      );
  }
}

/** A URL compared as RFC 9449 §4.3 asks: scheme and host case-insensitively, no query or fragment. */
function targetOf(url: string): string | null {
  try {
    const parsed = new URL(url);
    return `${parsed.origin}${parsed.pathname}`;
  } catch {
    return null;
  }
}

/**
 * Checks a DPoP proof (RFC 9449 §4.3) for one request with a bound token: a `dpop+jwt` signed with the
 * public key in its header, that key being the one the token is bound to, for this method and URL, issued
 * within the last minute, carrying the token's hash (`ath`). The caller refuses a `jti` seen before.
 */
export function checkProof(proof: string, context: ProofContext): AcceptedProof {
  const parts = proof.split(".");
  if (parts.length !== 3) throw invalidProof("the DPoP proof is not a JWT");
  const [headerPart, payloadPart, signaturePart] = parts as [string, string, string];
  const header = decodePart(headerPart);
  const claims = decodePart(payloadPart);
  if (!header || !claims) throw invalidProof("the DPoP proof is not a JWT");
  if (header.typ !== "dpop+jwt") throw invalidProof("the proof's typ must be dpop+jwt");
  const alg = header.alg;
  if (typeof alg !== "string" || !Object.hasOwn(ALGORITHMS, alg)) {
    throw invalidProof(`the proof must be signed with one of ${DPOP_ALGORITHMS}`);
  }
  const device = readPublicKey(header.jwk, (detail) => invalidProof(`the proof's jwk: ${detail}`));
  const expected = ALGORITHMS[alg as Algorithm];
  if (device.kty !== expected.kty) throw invalidProof(`${alg} needs a ${expected.kty} key`);
  if (
    !signatureValid(alg as Algorithm, device, `${headerPart}.${payloadPart}`, Buffer.from(signaturePart, "base64url"))
  )
    throw invalidProof("the proof's signature does not verify");
  if (device.thumbprint !== context.jkt) throw invalidProof("the proof is not signed by the key the token is bound to");
  if (claims.htm !== context.method) throw invalidProof("the proof's htm is not this request's method");
  if (typeof claims.htu !== "string" || targetOf(claims.htu) !== targetOf(context.url)) {
    throw invalidProof("the proof's htu is not this request's URL");
  }
  const { iat, jti } = claims;
  if (typeof iat !== "number" || Math.abs(context.now / 1000 - iat) > PROOF_WINDOW_SECONDS) {
    throw invalidProof("the proof was not issued within the last minute");
  }
  if (typeof jti !== "string" || jti.length < 8 || jti.length > 256) throw invalidProof("the proof needs a jti");
  if (claims.ath !== sha256(context.accessToken)) throw invalidProof("the proof's ath is not this token's hash");
  return { jti: `${context.jkt}:${jti}`, replayableUntil: new Date((iat + PROOF_WINDOW_SECONDS) * 1000) };
}

/**
 * Accepts the DPoP proof of a request with a bound token: checked (see `checkProof`) and not seen before
 * at any instance, else INVALID_DPOP_PROOF.
 */
export async function acceptProof(db: DbOrTx, proof: string | undefined, context: ProofContext): Promise<void> {
  if (!proof) throw invalidProof("a token bound to a device key needs a DPoP proof header");
  const accepted = checkProof(proof, context);
  if (!(await recordProofUse(db, sha256(accepted.jti), accepted.replayableUntil))) {
    throw invalidProof("this proof was used before");
  }
}
