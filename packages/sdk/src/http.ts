import { IpaasError } from "./errors.js";

export type Fetch = typeof fetch;

export interface HttpSettings {
  baseUrl: string;
  timeoutMs: number;
  /** Further tries of a call that is safe to repeat, after a network failure, a timeout or a 5xx. */
  retries: number;
  fetch: Fetch;
}

export interface Call {
  method: "GET" | "POST" | "DELETE";
  path: string;
  /** A JSON body, or a form (the token endpoint). */
  json?: unknown;
  form?: Record<string, string>;
  headers?: Record<string, string>;
  /** Whether sending it twice does no harm: only such calls are tried again. */
  repeatable: boolean;
}

/** The first retry waits this long, each further one twice as long (with jitter). */
const FIRST_BACKOFF_MS = 200;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The JSON API over `fetch`: timeouts, retries of what may be repeated, and failures as `IpaasError`. */
export class Http {
  constructor(private readonly settings: HttpSettings) {}

  get baseUrl(): string {
    return this.settings.baseUrl;
  }

  /** The parsed body of a 2xx answer (`undefined` when empty); an `IpaasError` for anything else. */
  async call<T>(call: Call): Promise<T> {
    const tries = call.repeatable ? this.settings.retries + 1 : 1;
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.#once<T>(call);
      } catch (error) {
        const transient = error instanceof IpaasError && (error.status === 0 || error.status >= 500);
        if (!transient || attempt >= tries) throw error;
        await sleep(FIRST_BACKOFF_MS * 2 ** (attempt - 1) * (0.5 + Math.random()));
      }
    }
  }

  async #once<T>(call: Call): Promise<T> {
    const headers: Record<string, string> = { accept: "application/json", ...call.headers };
    let body: string | undefined;
    if (call.form) {
      headers["content-type"] = "application/x-www-form-urlencoded";
      body = new URLSearchParams(call.form).toString();
    } else if (call.json !== undefined) {
      headers["content-type"] = "application/json";
      body = JSON.stringify(call.json);
    }
    let response: Response;
    try {
      response = await this.settings.fetch(new URL(call.path, this.settings.baseUrl), {
        method: call.method,
        headers,
        ...(body === undefined ? {} : { body }),
        signal: AbortSignal.timeout(this.settings.timeoutMs),
      });
    } catch (error) {
      const timedOut = error instanceof Error && error.name === "TimeoutError";
      throw new IpaasError({
        code: timedOut ? "TIMEOUT" : "NETWORK_ERROR",
        status: 0,
        message: timedOut
          ? `no answer from ${this.settings.baseUrl} within ${this.settings.timeoutMs} ms`
          : `could not reach ${this.settings.baseUrl}`,
        cause: error,
      });
    }
    const text = await response.text();
    const parsed = parse(text);
    if (response.ok) return parsed as T;
    throw failureOf(response, parsed);
  }
}

function parse(text: string): unknown {
  if (text === "") return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** An answer that is not 2xx, as an error: an RFC 9457 problem, an OAuth error, or the bare status. */
function failureOf(response: Response, body: unknown): IpaasError {
  const fields = typeof body === "object" && body !== null ? (body as Record<string, unknown>) : {};
  const text = (name: string) => (typeof fields[name] === "string" ? (fields[name] as string) : undefined);
  const retryAfter = Number(response.headers.get("retry-after"));
  const common = {
    status: response.status,
    requestId: text("requestId") ?? response.headers.get("x-request-id") ?? undefined,
    retryAfter: Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter : undefined,
  };
  const code = text("code");
  if (code) return new IpaasError({ ...common, code, detail: text("detail") ?? text("title") });
  const oauthError = text("error");
  if (oauthError) {
    return new IpaasError({ ...common, code: oauthError.toUpperCase(), detail: text("error_description") });
  }
  return new IpaasError({
    ...common,
    code: `HTTP_${response.status}`,
    detail: typeof body === "string" ? body : undefined,
  });
}
