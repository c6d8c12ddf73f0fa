/**
 * Every failure of a call: the API's problem (`code`, `status`, `detail`, `requestId`), an OAuth error of
 * the token endpoint (`code` is its `error` in capitals, e.g. `INVALID_CLIENT`), or the way there
 * (`NETWORK_ERROR`, `TIMEOUT`, with `status` 0).
 */
export class IpaasError extends Error {
  override name = "IpaasError";
  /** A stable code: `INVALID_CODE`, `RATE_LIMITED`, `INVALID_CLIENT`, `INVALID_TOKEN`, `NETWORK_ERROR`… */
  readonly code: string;
  /** The HTTP status, or 0 when no answer came. */
  readonly status: number;
  /** What the service said about this case, when it did. */
  readonly detail: string | undefined;
  /** The service's id of the request, to quote when asking about it. */
  readonly requestId: string | undefined;
  /** For 429: the seconds to wait before trying again. */
  readonly retryAfter: number | undefined;

  constructor(fields: {
    code: string;
    status: number;
    message?: string;
    detail?: string | undefined;
    requestId?: string | undefined;
    retryAfter?: number | undefined;
    cause?: unknown;
  }) {
    super(fields.message ?? fields.detail ?? fields.code, fields.cause === undefined ? {} : { cause: fields.cause });
    this.code = fields.code;
    this.status = fields.status;
    this.detail = fields.detail;
    this.requestId = fields.requestId;
    this.retryAfter = fields.retryAfter;
  }
}
