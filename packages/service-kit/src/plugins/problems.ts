import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { isDatabaseUnavailable } from "@ipaas/db";
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import fp from "fastify-plugin";
import { CommonErrorCodes, type FieldProblem, PROBLEM_CONTENT_TYPE, ProblemError } from "../errors";

declare module "fastify" {
  interface FastifyInstance {
    /** Where the error codes are explained: every problem's `type` is this URL and the code as fragment. */
    problemDocsUrl: string;
  }
}

/** The document every problem `type` points into, served at `GET /errors`. */
const ERRORS_DOCUMENT = fileURLToPath(new URL("../../../../docs/errors.md", import.meta.url));

/** `INVALID_TOKEN` → `<docs>#invalid_token`: the code's section of the errors document. */
function problemType(docsUrl: string, code: string): string {
  return `${docsUrl}#${code.toLowerCase()}`;
}

type Problem = {
  type: string;
  title: string;
  status: number;
  detail?: string;
  code: string;
  requestId: string;
  errors?: FieldProblem[];
};

function problemFor(code: keyof typeof CommonErrorCodes, detail?: string): ProblemError {
  const entry = CommonErrorCodes[code];
  return new ProblemError(code, entry.status, entry.title, detail);
}

function fieldName(error: { instancePath?: string; params?: Record<string, unknown> }, context?: string): string {
  const path = (error.instancePath ?? "").replace(/^\//, "").replaceAll("/", ".");
  const missing = error.params?.missingProperty;
  const extra = error.params?.additionalProperty;
  const leaf = typeof missing === "string" ? missing : typeof extra === "string" ? extra : "";
  const parts = [path, leaf].filter(Boolean).join(".");
  return parts || context || "body";
}

/** Turns anything thrown in a request into an RFC 9457 problem; never leaks internals of a 5xx. */
export function toProblemError(error: FastifyError | ProblemError | Error): ProblemError {
  if (error instanceof ProblemError) return error;
  const fe = error as FastifyError;
  if (fe.validation) {
    const errors: FieldProblem[] = fe.validation.map((v) => ({
      field: fieldName(v as { instancePath?: string; params?: Record<string, unknown> }, fe.validationContext),
      message: v.message ?? "is not valid",
    }));
    const detail = errors.map((e) => `${e.field}: ${e.message}`).join("; ");
    return new ProblemError("VALIDATION_FAILED", 400, CommonErrorCodes.VALIDATION_FAILED.title, detail, { errors });
  }
  if (isDatabaseUnavailable(error))
    return new ProblemError(
      "UNAVAILABLE",
      503,
      CommonErrorCodes.UNAVAILABLE.title,
      "the database cannot be reached now",
      {
        headers: { "retry-after": "5" },
      },
    );
  const status = fe.statusCode ?? 500;
  if (status >= 500) return problemFor("INTERNAL");
  if (fe.code?.startsWith("FST_ERR_CTP_") && status === 400) return problemFor("MALFORMED_BODY", fe.message);
  switch (status) {
    case 401:
      return problemFor("UNAUTHENTICATED");
    case 403:
      return problemFor("FORBIDDEN");
    case 404:
      return problemFor("NOT_FOUND");
    case 405:
      return problemFor("METHOD_NOT_ALLOWED");
    case 413:
      return problemFor("PAYLOAD_TOO_LARGE");
    case 415:
      return problemFor("UNSUPPORTED_MEDIA_TYPE", fe.message);
    case 429:
      return problemFor("RATE_LIMITED");
    default:
      return new ProblemError("VALIDATION_FAILED", status, CommonErrorCodes.VALIDATION_FAILED.title, fe.message);
  }
}

export function sendProblem(request: FastifyRequest, reply: FastifyReply, problem: ProblemError) {
  const body: Problem = {
    type: problemType(request.server.problemDocsUrl, problem.code),
    title: problem.title,
    status: problem.status,
    code: problem.code,
    requestId: String(request.id),
  };
  if (problem.detail) body.detail = problem.detail;
  if (problem.extra.errors) body.errors = problem.extra.errors;
  for (const [name, value] of Object.entries(problem.extra.headers ?? {})) reply.header(name, value);
  return reply.status(problem.status).type(PROBLEM_CONTENT_TYPE).send(body);
}

/** One error handler and one not-found handler for the whole service. */
export const problemsPlugin = fp(
  async (app: FastifyInstance, options: { baseUrl: string }) => {
    app.decorate("problemDocsUrl", `${options.baseUrl.replace(/\/$/, "")}/errors`);
    // The explanations of the codes, so a problem's `type` leads somewhere a person can read.
    if (existsSync(ERRORS_DOCUMENT)) {
      const document = readFileSync(ERRORS_DOCUMENT, "utf8");
      app.get("/errors", { schema: { hide: true }, logLevel: "warn" }, async (_request, reply) =>
        reply.type("text/markdown; charset=utf-8").send(document),
      );
    }
    app.setErrorHandler((error: FastifyError, request, reply) => {
      const problem = toProblemError(error);
      // A 503 the service chose to answer (load shed, a dependency it knows is down) is a refusal, not a
      // fault: it is logged without a stack, which under a storm would cost more than the answer.
      if (problem.status >= 500 && problem !== error) request.log.error({ err: error }, "request failed");
      else if (problem.status >= 500)
        request.log.warn({ problem: problem.code, status: problem.status, detail: problem.detail }, "request refused");
      else request.log.info({ problem: problem.code, status: problem.status }, "request refused");
      return sendProblem(request, reply, problem);
    });
    app.setNotFoundHandler((request, reply) =>
      sendProblem(
        request,
        reply,
        problemFor("NOT_FOUND", `no route for ${request.method} ${request.url.split("?")[0]}`),
      ),
    );
  },
  { name: "problems" },
);
