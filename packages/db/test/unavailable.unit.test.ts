// Which errors mean "the database cannot be reached" (a 503 to retry) rather than a failed statement.
import { describe, expect, it } from "vitest";
import { isDatabaseUnavailable } from "../src/unavailable";

const withCode = (code: string, message = "") => Object.assign(new Error(message), { code });

describe("a database that cannot be reached", () => {
  it("is recognised from the driver, Prisma, and errors wrapped in causes", () => {
    for (const error of [
      withCode("ECONNREFUSED", "connect ECONNREFUSED 127.0.0.1:5432"),
      withCode("P1001", "Can't reach database server at db:5432"),
      withCode("P2024", "Timed out fetching a new connection from the connection pool"),
      withCode("57P01", "terminating connection due to administrator command"),
      withCode("08006"),
      new Error("Connection terminated unexpectedly"),
      new Error("adapter failed", { cause: new Error("outer", { cause: withCode("ECONNRESET") }) }),
    ]) {
      expect(isDatabaseUnavailable(error), String(error)).toBe(true);
    }
  });

  it("is not a statement that failed, a broken rule, or anything else", () => {
    for (const error of [
      withCode("P2002", "Unique constraint failed"),
      withCode("23505", "duplicate key value"),
      withCode("22021", "invalid byte sequence"),
      new Error("something else"),
      null,
      "ECONNREFUSED",
    ]) {
      expect(isDatabaseUnavailable(error), String(error)).toBe(false);
    }
    // A cycle of causes ends.
    const a = new Error("a");
    const b = new Error("b", { cause: a });
    (a as { cause?: unknown }).cause = b;
    expect(isDatabaseUnavailable(a)).toBe(false);
  });
});
