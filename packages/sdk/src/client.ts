import { parseApiKey } from "./api-key.js";
import { Auth } from "./auth.js";
import { type Fetch, Http } from "./http.js";
import { PartnerTokens } from "./partner-token.js";

export interface IpaasOptions {
  /** api-auth's base URL: `IPAAS_BASE_URL` from the environment, else `http://localhost:7006`. */
  baseUrl?: string;
  /** How long one HTTP call may take (default 10 s). */
  timeoutMs?: number;
  /** Further tries of calls that are safe to repeat, after a network failure or a 5xx (default 2). */
  retries?: number;
  /** The `fetch` to use (default: Node's). */
  fetch?: Fetch;
}

export interface Ipaas {
  /** One-time-code sign-in and user tokens. */
  auth(): Auth;
}

/**
 * Clients are shared per API key, base URL and `fetch`, so `ipaas(apiKey)` written at every call (as the
 * platform's own examples do) still fetches one partner token and reuses it.
 */
const clients = new WeakMap<Fetch, Map<string, Ipaas>>();

/** The platform's API for an organization, with its API key (`ipaas_sk_…`, from the dashboard). */
export function ipaas(apiKey: string, options: IpaasOptions = {}): Ipaas {
  const credentials = parseApiKey(apiKey);
  const fetchImpl = options.fetch ?? globalThis.fetch;
  const baseUrl = options.baseUrl ?? process.env.IPAAS_BASE_URL ?? "http://localhost:7006";
  const timeoutMs = options.timeoutMs ?? 10_000;
  const retries = options.retries ?? 2;
  const key = [baseUrl, timeoutMs, retries, apiKey].join("\n");
  let byKey = clients.get(fetchImpl);
  if (!byKey) {
    byKey = new Map();
    clients.set(fetchImpl, byKey);
  }
  const known = byKey.get(key);
  if (known) return known;
  const http = new Http({ baseUrl, timeoutMs, retries, fetch: fetchImpl });
  const auth = new Auth(http, new PartnerTokens(http, credentials, "otp"), fetchImpl);
  const client: Ipaas = { auth: () => auth };
  byKey.set(key, client);
  return client;
}
