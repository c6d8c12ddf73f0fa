import Type from "typebox";

/**
 * Error codes every service shares. Each service adds its own closed list (see `defineErrorCodes`).
 * The code is the stable contract; `title` and `detail` are for people.
 */
export const CommonErrorCodes = {
  VALIDATION_FAILED: { status: 400, title: "The request is not valid" },
  MALFORMED_BODY: { status: 400, title: "The request body could not be parsed" },
  UNAUTHENTICATED: { status: 401, title: "Authentication is required" },
  FORBIDDEN: { status: 403, title: "Not allowed" },
  NOT_FOUND: { status: 404, title: "Not found" },
  METHOD_NOT_ALLOWED: { status: 405, title: "Method not allowed" },
  CONFLICT: { status: 409, title: "Conflict" },
  PAYLOAD_TOO_LARGE: { status: 413, title: "The request body is too large" },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, title: "Unsupported content type" },
  RATE_LIMITED: { status: 429, title: "Too many requests" },
  INTERNAL: { status: 500, title: "Internal server error" },
  UNAVAILABLE: { status: 503, title: "Service unavailable" },
} as const satisfies Record<string, { status: number; title: string }>;

export type ErrorCatalogue = Record<string, { status: number; title: string }>;
export type CommonErrorCode = keyof typeof CommonErrorCodes;

export interface FieldProblem {
  field: string;
  message: string;
}

/** An error that becomes an RFC 9457 problem response. */
export class ProblemError extends Error {
  override name = "ProblemError";
  constructor(
    readonly code: string,
    readonly status: number,
    readonly title: string,
    readonly detail?: string,
    readonly extra: { errors?: FieldProblem[]; headers?: Record<string, string> } = {},
  ) {
    super(detail ?? title);
  }
}

/** Builds a typed `fail(code, detail?)` for one service's closed list of codes. */
export function defineErrorCodes<const C extends ErrorCatalogue>(codes: C) {
  const catalogue = { ...CommonErrorCodes, ...codes };
  type Code = keyof typeof catalogue & string;
  return {
    catalogue,
    fail(code: Code, detail?: string, extra?: ProblemError["extra"]): ProblemError {
      const entry = catalogue[code] as { status: number; title: string };
      return new ProblemError(code, entry.status, entry.title, detail, extra);
    },
    /** A problem with one request field: `detail` is "field: message" and `errors` names the field. */
    invalidField(field: string, message: string, code: Code = "VALIDATION_FAILED"): ProblemError {
      const entry = catalogue[code] as { status: number; title: string };
      return new ProblemError(code, entry.status, entry.title, `${field}: ${message}`, {
        errors: [{ field, message }],
      });
    },
  };
}

export const commonErrors = defineErrorCodes({});

export const PROBLEM_CONTENT_TYPE = "application/problem+json";

/** The problem document schema, for OpenAPI and the serializer. */
export const ProblemSchema = Type.Object(
  {
    type: Type.String({ description: "A URI naming the problem type" }),
    title: Type.String(),
    status: Type.Integer(),
    detail: Type.Optional(Type.String()),
    code: Type.String({ description: "Stable UPPER_SNAKE error code" }),
    requestId: Type.String(),
    errors: Type.Optional(Type.Array(Type.Object({ field: Type.String(), message: Type.String() }))),
  },
  { $id: "Problem", description: "RFC 9457 problem details" },
);

/** The problem responses a route can give, for its schema and the OpenAPI document. */
export function problems(...statuses: number[]) {
  const problem = Type.Ref("Problem");
  return Object.fromEntries(statuses.map((s) => [s, problem]));
}
