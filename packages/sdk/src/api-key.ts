import { IpaasError } from "./errors.js";

/** `ipaas_sk_<the client key's 32 hex digits>_<the client secret>`, as the dashboard shows it. */
const API_KEY = /^ipaas_sk_([0-9a-f]{32})_([A-Za-z0-9_-]{16,})$/;

export interface ClientCredentials {
  clientKey: string;
  clientSecret: string;
}

/** The client key (a UUID) and secret an API key carries; an `INVALID_API_KEY` error for anything else. */
export function parseApiKey(apiKey: unknown): ClientCredentials {
  const match = typeof apiKey === "string" ? API_KEY.exec(apiKey.trim()) : null;
  if (!match) {
    throw new IpaasError({
      code: "INVALID_API_KEY",
      status: 0,
      message: "the API key is not one the dashboard gives (ipaas_sk_…): copy it whole from there",
    });
  }
  const hex = match[1] as string;
  const clientKey = [hex.slice(0, 8), hex.slice(8, 12), hex.slice(12, 16), hex.slice(16, 20), hex.slice(20)].join("-");
  return { clientKey, clientSecret: match[2] as string };
}
