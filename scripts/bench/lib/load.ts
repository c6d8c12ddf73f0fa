// Load generation with autocannon's programmatic API, from the benchmark process itself.
import autocannon from "autocannon";

export interface LoadSpec {
  /** Base URL of the server, e.g. http://127.0.0.1:7006. */
  url: string;
  /** Cycled through in order by every connection. */
  requests: autocannon.Request[];
  connections: number;
  durationSeconds: number;
  /** A fixed request rate over all connections (req/s); unset means as fast as the server answers. */
  overallRate?: number;
}

export interface LoadResult {
  durationSeconds: number;
  /** Answers with a 2xx status per second: what the ratios compare. */
  okPerSecond: number;
  /** Every answer per second, whatever its status. */
  answersPerSecond: number;
  ok: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  statusCodes: Record<string, number>;
  latencyMs: { p50: number; p90: number; p99: number; max: number; mean: number };
}

/** Hard bound on the requests of one window, whatever the duration: no load loop is unbounded. */
const MAX_REQUESTS_PER_WINDOW = 2_000_000;

export async function drive(spec: LoadSpec): Promise<LoadResult> {
  const options: autocannon.Options = {
    url: spec.url,
    connections: spec.connections,
    pipelining: 1,
    duration: spec.durationSeconds,
    maxOverallRequests: MAX_REQUESTS_PER_WINDOW,
    timeout: 10,
    requests: spec.requests,
    ...(spec.overallRate !== undefined ? { overallRate: spec.overallRate } : {}),
  };
  const result = await autocannon(options);
  const statusCodes: Record<string, number> = {};
  for (const [code, stats] of Object.entries(result.statusCodeStats ?? {})) {
    statusCodes[code] = stats.count ?? 0;
  }
  const seconds = result.duration;
  return {
    durationSeconds: seconds,
    okPerSecond: result["2xx"] / seconds,
    answersPerSecond: result.requests.total / seconds,
    ok: result["2xx"],
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    statusCodes,
    latencyMs: {
      p50: result.latency.p50,
      p90: result.latency.p90,
      p99: result.latency.p99,
      max: result.latency.max,
      mean: result.latency.mean,
    },
  };
}

/** A form-encoded POST, as OAuth clients send. */
export function formPost(path: string, body: string, headers: Record<string, string> = {}): autocannon.Request {
  return {
    method: "POST",
    path,
    headers: { "content-type": "application/x-www-form-urlencoded", ...headers },
    body,
  };
}

/** A JSON POST. */
export function jsonPost(path: string, body: unknown, headers: Record<string, string> = {}): autocannon.Request {
  return {
    method: "POST",
    path,
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
  };
}
