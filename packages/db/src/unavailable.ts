// Whether an error means the database could not be reached (rather than that a statement failed): the
// services answer such a request 503, a refusal to retry, and never a 500.

/** Prisma's codes for a server it cannot reach, a connection it lost, or no connection free in time. */
const PRISMA_CODES = new Set(["P1001", "P1002", "P1008", "P1017", "P2024"]);
/** Sockets that failed, and Postgres's connection exceptions (class 08) and shutdowns (57P01–57P03). */
const DRIVER_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "EPIPE",
  "ENOTFOUND",
  "EHOSTUNREACH",
  "57P01",
  "57P02",
  "57P03",
]);
const DRIVER_MESSAGES = [
  /Connection terminated/i,
  /timeout exceeded when trying to connect/i,
  /Can't reach database server/i,
];

export function isDatabaseUnavailable(error: unknown): boolean {
  const seen = new Set<unknown>();
  let current: unknown = error;
  // The driver adapter wraps the driver's error: the reason may sit a few `cause`s down.
  while (current && typeof current === "object" && !seen.has(current)) {
    seen.add(current);
    const { code, message, cause } = current as { code?: unknown; message?: unknown; cause?: unknown };
    if (typeof code === "string" && (PRISMA_CODES.has(code) || DRIVER_CODES.has(code) || code.startsWith("08")))
      return true;
    if (typeof message === "string" && DRIVER_MESSAGES.some((pattern) => pattern.test(message))) return true;
    current = cause ?? (current as { originalError?: unknown }).originalError;
  }
  return false;
}
