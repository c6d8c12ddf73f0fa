import type { FastifyServerOptions } from "fastify";
import type { DestinationStream } from "pino";
import type { BaseConfig as Config } from "./config";
import { newId } from "./ids";
import { loggerOptions } from "./logging";
import { sendProblem, toProblemError } from "./plugins/problems";

const SAFE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,64}$/;

/** Fastify's own options, the same for both services. */
export function serverOptions(
  config: Config,
  service: string,
  logStream?: DestinationStream,
): FastifyServerOptions & { loggerInstance?: never } {
  const logger = loggerOptions(config.LOG_LEVEL, service);
  return {
    logger: logStream ? { ...logger, stream: logStream } : logger,
    trustProxy: config.trustProxy,
    bodyLimit: 64 * 1024,
    // Echo a caller's request id only when it is harmless to log; otherwise make our own.
    genReqId: (req) => {
      const incoming = req.headers["x-request-id"];
      return typeof incoming === "string" && SAFE_REQUEST_ID.test(incoming) ? incoming : newId("req");
    },
    ajv: { customOptions: { removeAdditional: false, coerceTypes: "array", useDefaults: true, allErrors: true } },
    // Refusals the router makes before any route (a malformed URL, a parameter over the length limit) are
    // problems like every other.
    frameworkErrors: (error, request, reply) => sendProblem(request, reply, toProblemError(error)),
    return503OnClosing: true,
    forceCloseConnections: "idle",
  };
}
