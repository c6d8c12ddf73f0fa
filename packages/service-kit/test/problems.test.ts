import { testConfig } from "@ipaas/testing";
import fc from "fast-check";
import Fastify, { type FastifyInstance } from "fastify";
import Type from "typebox";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { defineErrorCodes } from "../src/errors";
import { platformPlugin } from "../src/plugins/platform";
import { serverOptions } from "../src/server-options";

const { fail } = defineErrorCodes({ WIDGET_TAKEN: { status: 409, title: "That widget exists" } });

describe("problem+json errors", () => {
  let app: FastifyInstance;
  beforeAll(async () => {
    const config = testConfig();
    app = Fastify(serverOptions(config, "test"));
    await app.register(platformPlugin, {
      config,
      service: "test",
      openapi: { title: "t", description: "t", version: "1", serverUrl: "http://localhost" },
    });
    app.post(
      "/v1/widgets",
      {
        schema: {
          body: Type.Object(
            { name: Type.String({ minLength: 1 }), count: Type.Integer({ minimum: 1 }) },
            { additionalProperties: false },
          ),
        },
      },
      async (request) => {
        const body = request.body as { name: string };
        if (body.name === "taken") throw fail("WIDGET_TAKEN", "a widget with that name exists");
        if (body.name === "boom") throw new Error("database password is hunter2");
        return { ok: true };
      },
    );
    app.get("/v1/widgets/:id", async (request) => ({ id: (request.params as { id: string }).id }));
    await app.ready();
  });
  afterAll(() => app.close());

  it("refuses the NUL character anywhere in the path, query or body with 400, before any handler", async () => {
    for (const res of [
      await app.inject({ method: "GET", url: "/v1/widgets/a%00b" }),
      await app.inject({ method: "GET", url: "/v1/widgets/a?q=%00" }),
      await post(JSON.stringify({ name: "a\u0000b", count: 1 })),
      await post(JSON.stringify({ name: "a", count: 1, "\u0000": 1 })),
    ]) {
      expect(res.statusCode).toBe(400);
      expect(res.headers["content-type"]).toMatch(/^application\/problem\+json/);
      expect(res.json()).toMatchObject({ code: "VALIDATION_FAILED", detail: expect.stringMatching(/NUL character/) });
    }
    expect((await app.inject({ method: "GET", url: "/v1/widgets/ab" })).json()).toEqual({ id: "ab" });
  });

  it("answers the router's own refusals (a parameter over its length limit, a malformed URL) as problems", async () => {
    const long = await app.inject({ method: "GET", url: `/v1/widgets/${"a".repeat(200)}` });
    expect(long.statusCode).toBe(414);
    expect(long.headers["content-type"]).toMatch(/^application\/problem\+json/);
    const malformed = await app.inject({ method: "GET", url: "/v1/widgets/%E0%A4%A" });
    expect(malformed.statusCode).toBe(400);
    expect(malformed.headers["content-type"]).toMatch(/^application\/problem\+json/);
  });

  const post = (payload: string, contentType = "application/json") =>
    app.inject({ method: "POST", url: "/v1/widgets", payload, headers: { "content-type": contentType } });

  it("answers malformed JSON with 400 MALFORMED_BODY", async () => {
    const res = await post("{not json");
    expect(res.statusCode).toBe(400);
    expect(res.headers["content-type"]).toMatch(/^application\/problem\+json/);
    expect(res.json()).toMatchObject({ status: 400, code: "MALFORMED_BODY", type: expect.any(String) });
    expect(res.json().requestId).toBe(res.headers["x-request-id"]);
  });

  it("answers schema violations with 400 VALIDATION_FAILED naming every field", async () => {
    const res = await post(JSON.stringify({ count: 0, extra: true }));
    expect(res.statusCode).toBe(400);
    const body = res.json();
    expect(body.code).toBe("VALIDATION_FAILED");
    const fields = body.errors.map((e: { field: string }) => e.field);
    expect(fields).toEqual(expect.arrayContaining(["name", "count", "extra"]));
  });

  it("answers unknown routes with 404 problem+json", async () => {
    const res = await app.inject({ method: "GET", url: "/v1/nothing-here?x=1" });
    expect(res.statusCode).toBe(404);
    expect(res.headers["content-type"]).toMatch(/^application\/problem\+json/);
    expect(res.json()).toMatchObject({ code: "NOT_FOUND", detail: "no route for GET /v1/nothing-here" });
  });

  it("answers an unsupported content type with 415", async () => {
    const res = await post("name=x", "text/csv");
    expect(res.statusCode).toBe(415);
    expect(res.json().code).toBe("UNSUPPORTED_MEDIA_TYPE");
  });

  it("answers an oversized body with 413", async () => {
    const res = await post(JSON.stringify({ name: "x".repeat(70_000), count: 1 }));
    expect(res.statusCode).toBe(413);
    expect(res.json().code).toBe("PAYLOAD_TOO_LARGE");
  });

  it("passes a service's own closed-list error through with its status", async () => {
    const res = await post(JSON.stringify({ name: "taken", count: 1 }));
    expect(res.statusCode).toBe(409);
    expect(res.json()).toMatchObject({ code: "WIDGET_TAKEN", detail: "a widget with that name exists" });
  });

  it("hides the internals of an unexpected failure", async () => {
    const res = await post(JSON.stringify({ name: "boom", count: 1 }));
    expect(res.statusCode).toBe(500);
    expect(res.json()).toMatchObject({ code: "INTERNAL", title: "Internal server error" });
    expect(res.body).not.toMatch(/hunter2|Error|at /);
  });

  it("echoes a safe caller request id and replaces an unsafe one", async () => {
    const safe = await app.inject({ method: "GET", url: "/health/live", headers: { "x-request-id": "abc-123" } });
    expect(safe.headers["x-request-id"]).toBe("abc-123");
    const unsafe = await app.inject({
      method: "GET",
      url: "/health/live",
      headers: { "x-request-id": "evil\u0000line\nbreak" },
    });
    expect(unsafe.headers["x-request-id"]).toMatch(/^req_/);
  });

  it("never answers arbitrary bodies with a 5xx", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.json(),
          fc.string(),
          fc.record({ name: fc.anything(), count: fc.anything() }).map((v) => JSON.stringify(v) ?? ""),
        ),
        async (payload) => {
          const res = await post(payload);
          expect(res.statusCode).toBeLessThan(500);
          if (res.statusCode >= 400) expect(res.headers["content-type"]).toMatch(/^application\/problem\+json/);
        },
      ),
      { numRuns: 300 },
    );
  });

  it("sets the security headers and the request id on every answer, errors and unknown routes included", async () => {
    const answers = [
      await app.inject({ method: "GET", url: "/health/live" }),
      await app.inject({ method: "GET", url: "/no-such-route" }),
      await post("{not json"),
    ];
    expect(answers.map((res) => res.statusCode)).toEqual([200, 404, 400]);
    for (const res of answers) {
      expect(res.headers).toMatchObject({
        "content-security-policy": "default-src 'none'; frame-ancestors 'none'",
        "strict-transport-security": "max-age=31536000; includeSubDomains",
        "x-content-type-options": "nosniff",
        "x-frame-options": "DENY",
        "referrer-policy": "no-referrer",
      });
      expect(res.headers["x-request-id"]).toMatch(/^req_/);
      // Headers that only mean something to HTML pages are not sent.
      expect(res.headers["x-xss-protection"]).toBeUndefined();
      expect(res.headers["x-dns-prefetch-control"]).toBeUndefined();
    }
  });
});
