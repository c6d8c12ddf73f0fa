// Every route of both services, from their OpenAPI documents, fed what fast-check makes: wrong types, huge
// and unicode strings, deep nesting, nulls, extra fields, `__proto__`, malformed JSON and forms, odd path
// parameters, queries and headers, with and without a valid token of the route's kind. Not one 5xx or
// stack trace; every refusal is a problem document (the RFC 6749 error form on the OAuth routes); and no
// domain row is written by a refused request. FUZZ_RUNS sets how many requests (about; the default is
// what CI runs).
import { DOMAIN_TABLES, recordResult, tableFingerprint } from "@ipaas/testing";
import fc from "fast-check";
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AttackWorld, buildAttackWorld, type TokenKind } from "./attack-world";

const RUNS = Number(process.env.FUZZ_RUNS ?? 3000);
/** Routes that end the caller's session or tenant: fuzzed without a valid token, so the world stays standing. */
const ENDS_SESSION = new Set([
  "POST /v1/auth/logout",
  "POST /v1/users/me/sign-out",
  "DELETE /v1/users/me",
  "DELETE /v1/organizations",
]);
/** The OAuth endpoints, which answer errors in RFC 6749's form rather than as problems. */
const OAUTH = new Set(["/v1/auth/token", "/v1/auth/introspect", "/v1/auth/revoke"]);
/** Bookkeeping an authenticated request updates whatever it asked: when a session was last used. */
const BOOKKEEPING = ["lastSeenAt"];

/** What one service (or the accepted writes) came to. */
interface Tally {
  requests: number;
  fiveHundreds: number;
  refused: number;
  accepted: number;
}

interface Operation {
  service: "dashboard-auth" | "api-auth";
  method: string;
  path: string;
  params: string[];
  query: string[];
  body: string[];
  bearer: boolean;
}

function operationsOf(service: Operation["service"], app: FastifyInstance): Operation[] {
  type Parameter = { name: string; in: string };
  type Document = {
    paths: Record<
      string,
      Record<
        string,
        {
          parameters?: Parameter[];
          security?: unknown[];
          requestBody?: { content?: Record<string, { schema?: { properties?: Record<string, unknown> } }> };
        }
      >
    >;
  };
  const document = app.swagger() as Document;
  return Object.entries(document.paths).flatMap(([path, operations]) =>
    Object.entries(operations).map(([method, operation]) => {
      const parameters = operation.parameters ?? [];
      const content = Object.values(operation.requestBody?.content ?? {})[0];
      return {
        service,
        method: method.toUpperCase(),
        path,
        params: parameters.filter((p) => p.in === "path").map((p) => p.name),
        query: parameters.filter((p) => p.in === "query").map((p) => p.name),
        body: Object.keys(content?.schema?.properties ?? {}),
        bearer: JSON.stringify(operation.security ?? []).includes('"bearer"'),
      };
    }),
  );
}

const odd = fc.oneof(
  fc.string(),
  fc.string({ unit: "grapheme", maxLength: 200 }),
  fc.string({ unit: "binary", maxLength: 50 }),
  fc.constantFrom(
    "",
    " ",
    "\u0000",
    "../../../etc/passwd",
    "' OR 1=1--",
    "<script>alert(1)</script>",
    "%00",
    "__proto__",
    "constructor",
    "prototype",
    "{{7*7}}",
    "😀".repeat(300),
    "a".repeat(70_000),
    "9".repeat(400),
  ),
);
const value: fc.Arbitrary<unknown> = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    odd,
    fc.integer(),
    fc.double(),
    fc.boolean(),
    fc.constant(null),
    fc.array(tie("value"), { maxLength: 4 }),
    fc.dictionary(odd, tie("value"), { maxKeys: 4 }),
  ),
})).value;
/** A body shaped like the route's: its own fields with values of any type, and extra ones. */
const shapedBody = (fields: string[]) =>
  fc
    .tuple(
      fc.record(Object.fromEntries(fields.map((f) => [f, value])), { requiredKeys: [] }),
      fc.dictionary(odd, value, { maxKeys: 3 }),
    )
    .map(([own, extra]) => ({ ...extra, ...own }));
const deep = fc.integer({ min: 50, max: 3000 }).map((n) => `${"[".repeat(n)}${"]".repeat(n)}`);
const payloads = (fields: string[]) =>
  fc.oneof(
    shapedBody(fields).map((body) => ({ type: "application/json", text: JSON.stringify(body) })),
    value.map((body) => ({ type: "application/json", text: JSON.stringify(body) ?? "null" })),
    fc
      .constantFrom(
        '{"__proto__":{"admin":true},"constructor":{"prototype":{"admin":true}}}',
        '{"a":',
        "{'single': 'quotes'}",
        "null",
        "",
      )
      .map((text) => ({ type: "application/json", text })),
    deep.map((text) => ({ type: "application/json", text })),
    fc
      .dictionary(fc.oneof(fc.constantFrom(...(fields.length ? fields : ["x"])), odd), odd, { maxKeys: 5 })
      .map((form) => ({ type: "application/x-www-form-urlencoded", text: new URLSearchParams(form).toString() })),
    odd.map((text) => ({
      type: fc.sample(fc.constantFrom("text/plain", "application/xml", "multipart/form-data"), 1)[0] as string,
      text,
    })),
    fc.constant(null),
  );

/** Each domain table's rows, as one digest per table. */
const fingerprint = (app: FastifyInstance) => tableFingerprint(app.db, DOMAIN_TABLES, BOOKKEEPING);

describe("fuzzing every route from the OpenAPI documents", () => {
  let world: AttackWorld;
  const figures: Record<string, Tally> = {};

  beforeAll(async () => {
    world = await buildAttackWorld();
  }, 120_000);
  afterAll(async () => {
    await world?.close();
    await recordResult("attacks.fuzz", figures);
  });

  it("answers every request below 500, refusals as problems, without a stack trace or a written row", async () => {
    const operations = [...operationsOf("dashboard-auth", world.dashboard), ...operationsOf("api-auth", world.api())];
    expect(operations.length).toBeGreaterThan(60);
    // The token each route takes, found as the forgery suite finds it: the one of four it does not refuse.
    const kindOf = new Map<Operation, TokenKind | null>();
    for (const op of operations) {
      const url = op.path.replace(/\{[^}]+\}/g, "x");
      const kind =
        op.bearer && !ENDS_SESSION.has(`${op.method} ${op.path}`)
          ? ((await world.acceptedKinds({ ...op, url }))[0] ?? null)
          : null;
      kindOf.set(op, kind);
    }
    const problems: string[] = [];
    /** The accepted writes, and the routes whose refused requests changed a domain table. */
    const writes: string[] = [];
    const refusedWrites: string[] = [];
    const perOperation = Math.max(5, Math.ceil(RUNS / operations.length));
    for (const op of operations) {
      const app = world.appOf({ ...op, url: op.path });
      const kind = kindOf.get(op) ?? null;
      figures[op.service] ??= { requests: 0, fiveHundreds: 0, refused: 0, accepted: 0 };
      const tally = figures[op.service] as {
        requests: number;
        fiveHundreds: number;
        refused: number;
        accepted: number;
      };
      const request = fc.record({
        params: fc.tuple(...op.params.map(() => odd), fc.constant(null)),
        query: fc.dictionary(fc.oneof(fc.constantFrom(...(op.query.length ? op.query : ["q"])), odd), odd, {
          maxKeys: 4,
        }),
        payload: payloads(op.body),
        authorization: fc.oneof(
          fc.constant(kind ? `Bearer ${world.tokens[kind]}` : undefined),
          fc.constant(kind ? `Bearer ${world.tokens[kind]}` : undefined),
          fc.constant(undefined),
          odd.map((s) => `Bearer ${s}`),
          odd,
        ),
        forwardedFor: fc.option(odd, { nil: undefined }),
      });
      const before = await fingerprint(world.dashboard);
      let acceptedWrite = false;
      for (const input of fc.sample(request, perOperation)) {
        let url = op.path;
        for (const [i, name] of op.params.entries())
          url = url.replace(`{${name}}`, encodeURIComponent(String(input.params[i])) || "x");
        const search = new URLSearchParams(input.query as Record<string, string>).toString();
        const headers: Record<string, string> = {};
        if (input.authorization !== undefined) headers.authorization = input.authorization.replace(/[\r\n]/g, "");
        if (input.forwardedFor !== undefined) headers["x-forwarded-for"] = input.forwardedFor.replace(/[\r\n]/g, "");
        if (input.payload) headers["content-type"] = input.payload.type;
        const res = await app.inject({
          method: op.method as "GET",
          url: search ? `${url}?${search}` : url,
          headers,
          ...(input.payload && op.method !== "GET" ? { payload: input.payload.text } : {}),
        });
        tally.requests += 1;
        const where = `${op.method} ${op.path} → ${res.statusCode}`;
        if (res.statusCode >= 500) {
          tally.fiveHundreds += 1;
          problems.push(`${where}: ${res.body.slice(0, 300)} for ${JSON.stringify(input).slice(0, 300)}`);
        }
        if (/\bat [\w.<>]+ \(|node_modules|\.ts:\d+/.test(res.body)) problems.push(`${where}: a stack trace`);
        if (res.statusCode < 400) {
          tally.accepted += 1;
          if (op.method !== "GET") {
            writes.push(where);
            acceptedWrite = true;
          }
          continue;
        }
        tally.refused += 1;
        const type = String(res.headers["content-type"] ?? "");
        if (op.service === "api-auth" && OAUTH.has(op.path)) {
          const body = res.json() as { error?: unknown };
          if (!type.startsWith("application/json") || typeof body.error !== "string")
            problems.push(`${where}: not an RFC 6749 error: ${res.body.slice(0, 200)}`);
        } else if (!type.startsWith("application/problem+json")) {
          problems.push(`${where}: ${type}, not a problem`);
        }
      }
      // A route's requests, all refused, left every domain table as it was. (Accepted writes may write.)
      const after = await fingerprint(world.dashboard);
      const changed = Object.keys(before).filter((table) => before[table] !== after[table]);
      if (!acceptedWrite && changed.length > 0) refusedWrites.push(`${op.method} ${op.path}: ${changed.join(", ")}`);
    }
    expect(problems).toEqual([]);
    expect(refusedWrites).toEqual([]);
    figures.acceptedWrites = { requests: writes.length, fiveHundreds: 0, refused: 0, accepted: writes.length };
    // What the fuzzer sent is noise, but the world's own tokens went with it: none of them reached a log.
    expect((await world.leaks.recorded("fuzz")).found).toEqual([]);
  }, 600_000);
});
