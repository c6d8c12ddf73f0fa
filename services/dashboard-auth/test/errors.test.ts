// One error vocabulary: every code the service can answer is explained in docs/errors.md, and each problem's
// `type` is the address of its code's section, served by the service itself.
import { readFileSync } from "node:fs";
import { CommonErrorCodes } from "@ipaas/service-kit";
import { buildDashboard, post } from "@ipaas/testing";
import { errorCatalogue as apiErrorCatalogue } from "api-auth";
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { errorCatalogue } from "../src/errors";

const document = readFileSync(new URL("../../../docs/errors.md", import.meta.url), "utf8");
const sections = new Set([...document.matchAll(/^### ([A-Z_]+)$/gm)].map((m) => m[1] ?? ""));

describe("error vocabulary", () => {
  let app: FastifyInstance;
  beforeAll(async () => {
    app = await buildDashboard();
  });
  afterAll(() => app.close());

  it("explains every code of both services in docs/errors.md, and nothing that is not a code", () => {
    const codes = new Set([
      ...Object.keys(CommonErrorCodes),
      ...Object.keys(errorCatalogue),
      ...Object.keys(apiErrorCatalogue),
    ]);
    for (const code of codes) expect(sections.has(code), code).toBe(true);
    for (const section of sections) expect(codes.has(section), section).toBe(true);
  });

  it("answers a problem whose type is its code's section of the errors document, served at /errors", async () => {
    const res = await post(app, "/v1/auth/verify-token");
    expect(res.statusCode).toBe(401);
    const problem = res.json() as { type: string; code: string };
    expect(problem.code).toBe("INVALID_TOKEN");
    expect(problem.type).toBe(`${app.tokens.issuer}/errors#invalid_token`);

    const docs = await app.inject({ method: "GET", url: new URL(problem.type).pathname });
    expect(docs.statusCode).toBe(200);
    expect(docs.headers["content-type"]).toContain("text/markdown");
    expect(docs.body).toContain("### INVALID_TOKEN");
  });
});
