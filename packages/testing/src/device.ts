import { createHash, generateKeyPairSync, type KeyObject, randomUUID, constants as rsa, sign } from "node:crypto";

/*
 * The person's device, as an app holding a key pair would be: it sends its public key at sign-in and signs
 * a DPoP proof (RFC 9449) for every call with its bound token.
 */

export type DeviceAlgorithm = "ES256" | "EdDSA" | "RS256" | "PS256";

export interface Device {
  alg: DeviceAlgorithm;
  /** The public key as the app sends it (a JWK, with the extra members WebCrypto exports). */
  publicJwk: Record<string, unknown>;
  /** RFC 7638 SHA-256 thumbprint of the public key: what the token's `cnf.jkt` must be. */
  thumbprint: string;
  privateKey: KeyObject;
}

const REQUIRED = { EC: ["crv", "kty", "x", "y"], OKP: ["crv", "kty", "x"], RSA: ["e", "kty", "n"] } as const;

export function newDevice(alg: DeviceAlgorithm = "ES256", rsaBits = 2048): Device {
  const pair =
    alg === "ES256"
      ? generateKeyPairSync("ec", { namedCurve: "P-256" })
      : alg === "EdDSA"
        ? generateKeyPairSync("ed25519")
        : generateKeyPairSync("rsa", { modulusLength: rsaBits });
  const jwk = pair.publicKey.export({ format: "jwk" }) as Record<string, string>;
  const members = REQUIRED[jwk.kty as keyof typeof REQUIRED];
  const canonical = `{${members.map((m) => `"${m}":"${jwk[m]}"`).join(",")}}`;
  return {
    alg,
    publicJwk: { ...jwk, alg, use: "sig", ext: true, key_ops: ["verify"] },
    thumbprint: createHash("sha256").update(canonical).digest("base64url"),
    privateKey: pair.privateKey,
  };
}

export interface ProofClaims {
  htm: string;
  htu: string;
  /** The access token the proof goes with; its hash becomes `ath`. */
  accessToken?: string;
  iat?: number;
  jti?: string;
}

const b64 = (value: object) => Buffer.from(JSON.stringify(value)).toString("base64url");

/**
 * A DPoP proof by `device` (or signed by `signer` while naming `device`'s key, to forge one). `header`
 * overrides members of the JOSE header.
 */
export function dpopProof(
  device: Device,
  claims: ProofClaims,
  options: { header?: Record<string, unknown>; signer?: Device } = {},
): string {
  const header = { typ: "dpop+jwt", alg: device.alg, jwk: device.publicJwk, ...options.header };
  const payload = {
    htm: claims.htm,
    htu: claims.htu,
    iat: claims.iat ?? Math.floor(Date.now() / 1000),
    jti: claims.jti ?? randomUUID(),
    ...(claims.accessToken ? { ath: createHash("sha256").update(claims.accessToken).digest("base64url") } : {}),
  };
  const input = `${b64(header)}.${b64(payload)}`;
  const signer = options.signer ?? device;
  const data = Buffer.from(input);
  const signature =
    signer.alg === "EdDSA"
      ? sign(null, data, signer.privateKey)
      : signer.alg === "ES256"
        ? sign("sha256", data, { key: signer.privateKey, dsaEncoding: "ieee-p1363" })
        : signer.alg === "PS256"
          ? sign("sha256", data, { key: signer.privateKey, padding: rsa.RSA_PKCS1_PSS_PADDING, saltLength: 32 })
          : sign("sha256", data, signer.privateKey);
  return `${input}.${signature.toString("base64url")}`;
}
