export { bearerToken } from "./bearer";
export {
  type BaseConfig,
  BaseConfigSchema,
  type ConfigDefinition,
  ConfigError,
  type ConfigOf,
  defineConfig,
  type Infrastructure,
  infrastructureOf,
  loadConfig,
  type Resolved,
  serverAddresses,
} from "./config";
export { digestsEqual, MasterKey, type MasterKeyRing, masterKeyOf, randomToken, sha256Hex } from "./crypto";
export {
  CommonErrorCodes,
  commonErrors,
  defineErrorCodes,
  type ErrorCatalogue,
  type FieldProblem,
  PROBLEM_CONTENT_TYPE,
  ProblemError,
  ProblemSchema,
  problems,
} from "./errors";
export { idMaker, type KitIdPrefix, newId } from "./ids";
export { type BearerAuthenticator, bearerAuthenticator, claimsOrRefuse } from "./keys/bearer-auth";
export { issuedBefore, waitPastCutoff } from "./keys/cutoff";
export { type SigningKeysOptions, signingKeysPlugin } from "./keys/plugin";
export {
  isSigningAlgorithm,
  type LoadedKey,
  SIGNING_ALGORITHMS,
  type SigningAlgorithm,
  type SigningKeyPolicy,
  SigningKeyStore,
} from "./keys/signing-keys";
export {
  type Claims,
  InvalidTokenError,
  type IssuedToken,
  type SignOptions,
  TokenService,
  type VerifiedToken,
  type VerifyOptions,
} from "./keys/tokens";
export { loggerOptions, redactUrl, SENSITIVE_KEYS } from "./logging";
export { type DatabaseOptions, databasePlugin } from "./plugins/database";
export { type CheckResult, Readiness, type ReadinessCheck } from "./plugins/health";
export { type PlatformOptions, platformPlugin } from "./plugins/platform";
export { sendProblem, toProblemError } from "./plugins/problems";
export { type ServiceBaseOptions, serviceBasePlugin } from "./plugins/service-base";
export { type LimitStore, type LimitStoreClass, redisLimitStore, sharedLimitsPlugin } from "./plugins/shared-limits";
export { loadConfigOrExit, loadDotEnv, type RunOptions, runService, type ServiceToRun, serveAll } from "./run";
export { serverOptions } from "./server-options";
