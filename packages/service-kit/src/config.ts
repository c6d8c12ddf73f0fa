import Type, { type Static } from "typebox";
import Value from "typebox/value";

/**
 * The one configuration schema for both services. Every variable is listed here, with its default;
 * `loadConfig` validates the environment at boot and production refuses insecure defaults.
 * The README's configuration table mirrors this schema.
 */
export const ConfigSchema = Type.Object({
  /**
   * Defaults to development for the other settings, but only an explicit `development` or `test` lets a
   * service run without MASTER_KEY (see `loadConfig`).
   */
  NODE_ENV: Type.Union([Type.Literal("development"), Type.Literal("test"), Type.Literal("production")], {
    default: "development",
  }),
  LOG_LEVEL: Type.Union(
    ["fatal", "error", "warn", "info", "debug", "trace", "silent"].map((l) => Type.Literal(l)),
    { default: "info" },
  ),
  HOST: Type.String({ default: "127.0.0.1", minLength: 1 }),
  DASHBOARD_AUTH_PORT: Type.Integer({ default: 7005, minimum: 0, maximum: 65535 }),
  API_AUTH_PORT: Type.Integer({ default: 7006, minimum: 0, maximum: 65535 }),
  DATABASE_URL: Type.String({ default: "postgres://postgres@127.0.0.1:5432/ipaas", pattern: "^postgres(ql)?://" }),
  DATABASE_POOL_SIZE: Type.Integer({ default: 10, minimum: 1, maximum: 200 }),
  NATS_URL: Type.String({ default: "nats://127.0.0.1:4222", pattern: "^(nats|tls)://" }),
  SMTP_URL: Type.Optional(Type.String({ pattern: "^smtps?://" })),
  MAIL_FROM: Type.String({ default: "IPaaS <no-reply@localhost>", minLength: 3 }),
  /** 32 random bytes, base64: encrypts secrets at rest and keys the look-up hashes of personal data. */
  MASTER_KEY: Type.Optional(Type.String({ minLength: 1 })),
  /** `dev` records messages in memory and the log; production needs a real gateway. */
  SMS_PROVIDER: Type.Union([Type.Literal("dev"), Type.Literal("http")], { default: "dev" }),
  DASHBOARD_AUTH_ISSUER: Type.String({ default: "http://localhost:7005", pattern: "^https?://" }),
  API_AUTH_ISSUER: Type.String({ default: "http://localhost:7006", pattern: "^https?://" }),
  /** `false`, `true` (trust every hop: never in production) or a comma list of proxy IPs/CIDRs. */
  TRUST_PROXY: Type.String({ default: "false" }),
  MIGRATE_ON_START: Type.Boolean({ default: true }),
  ACCESS_TOKEN_TTL_SECONDS: Type.Integer({ default: 900, minimum: 60, maximum: 86_400 }),
  API_TOKEN_TTL_SECONDS: Type.Integer({ default: 3600, minimum: 60, maximum: 86_400 }),
  /** The `aud` of partner access tokens: the resource servers (the platform's APIs) that accept them. */
  API_TOKEN_AUDIENCE: Type.String({ default: "ipaas-partner-api", minLength: 1 }),
  /** api-auth keeps organization credentials in memory this long; events invalidate sooner. */
  CLIENT_CACHE_TTL_SECONDS: Type.Integer({ default: 30, minimum: 0, maximum: 3600 }),
  /** The longest grace period a rotation may give the previous client secret. */
  CREDENTIAL_GRACE_MAX_SECONDS: Type.Integer({ default: 86_400, minimum: 0, maximum: 30 * 86_400 }),
  CLIENT_CACHE_MAX_ENTRIES: Type.Integer({ default: 10_000, minimum: 1, maximum: 1_000_000 }),
  /** Requests per minute per client address on the login, two-factor, password and token routes. */
  AUTH_RATE_LIMIT_PER_MINUTE: Type.Integer({ default: 30, minimum: 1, maximum: 100_000 }),
  /** A dashboard session ends after this long without use, and this long after login whatever happens. */
  SESSION_IDLE_MINUTES: Type.Integer({ default: 60, minimum: 1, maximum: 1440 }),
  SESSION_ABSOLUTE_HOURS: Type.Integer({ default: 24, minimum: 1, maximum: 720 }),
  /** Where the dashboard UI lives: password-reset links point at `<url>/reset-password?token=…`. */
  DASHBOARD_UI_URL: Type.String({ default: "http://localhost:3000", pattern: "^https?://" }),
  /** A new signing key is made this often, published this long before it signs. */
  SIGNING_KEY_ROTATION_DAYS: Type.Integer({ default: 30, minimum: 1, maximum: 365 }),
  SIGNING_KEY_PUBLISH_LEAD_SECONDS: Type.Integer({ default: 3600, minimum: 0, maximum: 7 * 86_400 }),
  SHUTDOWN_GRACE_MS: Type.Integer({ default: 10_000, minimum: 0, maximum: 120_000 }),
  /** The bearer token `GET /metrics` requires (openssl rand -base64 32); unset, `/metrics` is not served. */
  METRICS_TOKEN: Type.Optional(Type.String({ minLength: 32 })),
  /**
   * Banks that register themselves: `approval` waits for the platform owner, `open` (development) starts
   * them Active, `closed` accepts only banks the platform owner creates.
   */
  BANK_REGISTRATION: Type.Union([Type.Literal("approval"), Type.Literal("open"), Type.Literal("closed")], {
    default: "approval",
  }),
});

type RawConfig = Static<typeof ConfigSchema>;

export type Config = Omit<RawConfig, "MASTER_KEY"> & {
  /** Decoded master key (32 bytes). */
  MASTER_KEY: Buffer;
  /**
   * True when MASTER_KEY was not set and the public development key is used: only with NODE_ENV set
   * explicitly to development or test.
   */
  usingDevelopmentMasterKey: boolean;
  trustProxy: boolean | string[];
};

export class ConfigError extends Error {
  override name = "ConfigError";
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
  }
}

/**
 * A fixed, public development key, so a laptop needs no secret. Anyone can decrypt what it encrypts, so it
 * is used only when NODE_ENV says development or test explicitly: a deployment that forgets NODE_ENV
 * (which defaults to development) must not end up signing tokens with it.
 */
const DEVELOPMENT_MASTER_KEY = Buffer.from("ipaas-development-master-key-32b", "utf8");

function parseTrustProxy(value: string): Config["trustProxy"] | null {
  if (value === "false") return false;
  if (value === "true") return true;
  const list = value
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  return list.length > 0 ? list : null;
}

/** Reads and validates configuration; throws ConfigError listing every problem at once. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const input: Record<string, unknown> = {};
  for (const key of Object.keys(ConfigSchema.properties)) {
    const value = env[key];
    if (value !== undefined && value !== "") input[key] = value;
  }
  // Before defaults are filled in (Value.Default writes into `input`): a default NODE_ENV says nothing.
  const nodeEnvIsExplicit = input.NODE_ENV !== undefined;
  const withDefaults = Value.Convert(ConfigSchema, Value.Default(ConfigSchema, input)) as Record<string, unknown>;
  // Checked one variable at a time so every bad one is named, with a message a person can act on.
  const problems: string[] = [];
  for (const [key, schema] of Object.entries(ConfigSchema.properties)) {
    const value = withDefaults[key];
    if (value === undefined || Value.Check(schema, value)) continue;
    const choices = (schema as { anyOf?: Array<{ const?: unknown }> }).anyOf?.map((s) => s.const);
    const first = [...Value.Errors(schema, value)][0];
    problems.push(`${key}: ${choices ? `must be one of ${choices.join(", ")}` : (first?.message ?? "is not valid")}`);
  }
  if (problems.length > 0) throw new ConfigError(problems);
  const raw = withDefaults as RawConfig;

  let masterKey = DEVELOPMENT_MASTER_KEY;
  if (raw.MASTER_KEY !== undefined) {
    masterKey = Buffer.from(raw.MASTER_KEY, "base64");
    if (masterKey.length !== 32)
      problems.push("MASTER_KEY: must be 32 bytes, base64-encoded (openssl rand -base64 32)");
  }
  const trustProxy = parseTrustProxy(raw.TRUST_PROXY);
  if (trustProxy === null) problems.push("TRUST_PROXY: must be false, true or a comma list of proxy addresses");

  if (raw.MASTER_KEY === undefined && !nodeEnvIsExplicit)
    problems.push(
      "MASTER_KEY: required (openssl rand -base64 32). NODE_ENV is not set, so this may be a deployment: " +
        "the public development key is used only when NODE_ENV=development or NODE_ENV=test is set explicitly " +
        "(on a laptop: export NODE_ENV=development, or copy .env.example to .env)",
    );
  if (raw.NODE_ENV === "production") {
    if (raw.MASTER_KEY === undefined) problems.push("MASTER_KEY: required in production (openssl rand -base64 32)");
    if (raw.SMS_PROVIDER === "dev")
      problems.push("SMS_PROVIDER: the dev provider sends nothing and is refused in production");
    if (raw.SMTP_URL === undefined) problems.push("SMTP_URL: required in production to deliver e-mail");
    if (trustProxy === true)
      problems.push("TRUST_PROXY: 'true' trusts any client's X-Forwarded-For; list the proxies instead");
  }
  if (problems.length > 0) throw new ConfigError(problems);

  return {
    ...raw,
    MASTER_KEY: masterKey,
    usingDevelopmentMasterKey: raw.MASTER_KEY === undefined,
    trustProxy: trustProxy ?? false,
  };
}
