/** The part of a pino logger this package uses; a pino `Logger` satisfies it. */
export interface EventsLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export const silentLogger: EventsLogger = {
  info() {},
  warn() {},
  error() {},
};

/** `Name: message`, cut short: safe to store or log (error messages here never hold payloads). */
export function describeError(err: unknown, max = 300): string {
  const text = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** A promise for `ms` that `cancel()` resolves early. */
export interface Sleep {
  promise: Promise<void>;
  cancel(): void;
}

export function sleep(ms: number): Sleep {
  let cancel = () => {};
  const promise = new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    cancel = () => {
      clearTimeout(timer);
      resolve();
    };
  });
  return { promise, cancel };
}

/** Exponential backoff with ±20% jitter: min·2^(attempt-1), capped at max. */
export function backoffMs(attempt: number, min: number, max: number): number {
  const base = Math.min(max, min * 2 ** Math.max(0, Math.min(attempt - 1, 30)));
  return Math.round(base * (0.8 + Math.random() * 0.4));
}
