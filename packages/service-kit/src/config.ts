import Type, { type Static, type TObject, type TProperties, type TSchema } from "typebox";
import Value from "typebox/value";

/**
 * The settings every service has (infrastructure: process, database, NATS, mail, keys, proxies, limits).
 * Each service extends it with its own (`defineConfig`); the environment is validated at boot and
 * production refuses insecure defaults. The README's configuration table mirrors the schemas.
 */
export const BaseConfigSchema = Type.Object({
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
  /**
   * The Postgres server and the NATS server (JetStream): both, or neither. Neither is the embedded
   * development mode (`pnpm dev`: Postgres and the event bus inside the process), refused in production.
   */
  DATABASE_URL: Type.Optional(Type.String({ pattern: "^postgres(ql)?://" })),
  DATABASE_POOL_SIZE: Type.Integer({ default: 10, minimum: 1, maximum: 200 }),
  NATS_URL: Type.Optional(Type.String({ pattern: "^(nats|tls)://" })),
  /**
   * Where the per-address request limits count, shared by every instance (`redis://…`). Unset: each
   * process counts alone, which is right for a single instance only.
   */
  REDIS_URL: Type.Optional(Type.String({ pattern: "^rediss?://" })),
  SMTP_URL: Type.Optional(Type.String({ pattern: "^smtps?://" })),
  MAIL_FROM: Type.String({ default: "IPaaS <no-reply@localhost>", minLength: 3 }),
  /** 32 random bytes, base64: encrypts secrets at rest and keys the look-up hashes of personal data. */
  MASTER_KEY: Type.Optional(Type.String({ minLength: 1 })),
  /**
   * After a rotation of MASTER_KEY: the replaced keys, comma-separated base64, which still decrypt what they
   * encrypted (each stored value names its key) and never encrypt.
   */
  MASTER_KEY_PREVIOUS: Type.Optional(Type.String({ minLength: 1 })),
  /**
   * The key look-up hashes of personal data are made with (base64, 32 bytes): MASTER_KEY unless set. A
   * hash cannot be re-computed from itself, so when MASTER_KEY is rotated in an installation with data,
   * set this to the MASTER_KEY the hashes were made with.
   */
  INDEX_KEY: Type.Optional(Type.String({ minLength: 1 })),
  /** `false`, `true` (trust every hop: never in production) or a comma list of proxy IPs/CIDRs. */
  TRUST_PROXY: Type.String({ default: "false" }),
  MIGRATE_ON_START: Type.Boolean({ default: true }),
  /** Requests per minute per client address on the login, two-factor, password and token routes. */
  AUTH_RATE_LIMIT_PER_MINUTE: Type.Integer({ default: 30, minimum: 1, maximum: 100_000 }),
  /** A new signing key is made this often, published this long before it signs. */
  SIGNING_KEY_ROTATION_DAYS: Type.Integer({ default: 30, minimum: 1, maximum: 365 }),
  SIGNING_KEY_PUBLISH_LEAD_SECONDS: Type.Integer({ default: 3600, minimum: 0, maximum: 7 * 86_400 }),
  SHUTDOWN_GRACE_MS: Type.Integer({ default: 10_000, minimum: 0, maximum: 120_000 }),
  /** The bearer token `GET /metrics` requires (openssl rand -base64 32); unset, `/metrics` is not served. */
  METRICS_TOKEN: Type.Optional(Type.String({ minLength: 32 })),
});

/** What loading adds to a schema's settings: the decoded master key and the parsed proxy list. */
export type Resolved<S extends TObject> = Omit<Static<S>, "MASTER_KEY" | "MASTER_KEY_PREVIOUS" | "INDEX_KEY"> & {
  /** Decoded master key (32 bytes). */
  MASTER_KEY: Buffer;
  /** Decoded replaced master keys (32 bytes each), newest first. */
  MASTER_KEY_PREVIOUS: Buffer[];
  /** Decoded index key, when set. */
  INDEX_KEY: Buffer | undefined;
  /**
   * True when MASTER_KEY was not set and the public development key is used: only with NODE_ENV set
   * explicitly to development or test.
   */
  usingDevelopmentMasterKey: boolean;
  trustProxy: boolean | string[];
  /**
   * Where the data and the events live: the configured servers, or (neither URL set, never in production)
   * the embedded development mode, which only its own runner can provide.
   */
  infrastructure: Infrastructure;
};

export type Infrastructure = { kind: "servers"; databaseUrl: string; natsUrl: string } | { kind: "embedded" };

/** The settings every service has; a service's own config type extends it. */
export type BaseConfig = Resolved<typeof BaseConfigSchema>;

/** A service's configuration: the base schema plus its own settings, and what production refuses of them. */
export interface ConfigDefinition<S extends TObject> {
  schema: S;
  load(env?: Record<string, string | undefined>): Resolved<S>;
}

/** The loaded configuration of a definition. */
export type ConfigOf<D extends { load(env?: Record<string, string | undefined>): unknown }> = ReturnType<D["load"]>;

export interface ConfigRules<P extends TProperties> {
  /** What production refuses of the service's own settings (on top of the base rules). */
  productionProblems?: (settings: Static<TObject<P>>) => string[];
  /**
   * Defaults that follow other variables (a base URL that follows the port): used for each variable the
   * environment leaves unset or empty.
   */
  derivedDefaults?: (env: Record<string, string | undefined>) => Record<string, string | undefined>;
}

/** Extends the base schema with a service's own settings and the rules that go with them. */
export function defineConfig<P extends TProperties>(own: P, rules: ConfigRules<P> = {}) {
  const schema = Type.Object({ ...BaseConfigSchema.properties, ...own });
  const productionProblems = rules.productionProblems ?? (() => []);
  const definition: ConfigDefinition<typeof schema> = {
    schema,
    load: (env = process.env) => {
      const derived = Object.entries(rules.derivedDefaults?.(env) ?? {}).filter(([name, value]) => value && !env[name]);
      return loadConfigWith(schema, { ...env, ...Object.fromEntries(derived) }, (raw) =>
        productionProblems(raw as unknown as Static<TObject<P>>),
      );
    },
  };
  return definition;
}

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

function parseTrustProxy(value: string): BaseConfig["trustProxy"] | null {
  if (value === "false") return false;
  if (value === "true") return true;
  const list = value
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  return list.length > 0 ? list : null;
}

/** Reads and validates the base settings only (tools that are not a service). */
export function loadConfig(env: Record<string, string | undefined> = process.env): BaseConfig {
  return loadConfigWith(BaseConfigSchema, env, () => []);
}

/** Reads and validates configuration against `schema`; throws ConfigError listing every problem at once. */
function loadConfigWith<S extends TObject>(
  schema: S,
  env: Record<string, string | undefined>,
  productionProblems: (raw: Static<S>) => string[],
): Resolved<S> {
  const input: Record<string, unknown> = {};
  for (const key of Object.keys(schema.properties)) {
    const value = env[key];
    if (value !== undefined && value !== "") input[key] = value;
  }
  // Before defaults are filled in (Value.Default writes into `input`): a default NODE_ENV says nothing.
  const nodeEnvIsExplicit = input.NODE_ENV !== undefined;
  const withDefaults = Value.Convert(schema, Value.Default(schema, input)) as Record<string, unknown>;
  // Checked one variable at a time so every bad one is named, with a message a person can act on.
  const problems: string[] = [];
  for (const [key, property] of Object.entries(schema.properties) as Array<[string, TSchema]>) {
    const value = withDefaults[key];
    if (value === undefined || Value.Check(property, value)) continue;
    const choices = (property as { anyOf?: Array<{ const?: unknown }> }).anyOf?.map((s) => s.const);
    const first = [...Value.Errors(property, value)][0];
    problems.push(`${key}: ${choices ? `must be one of ${choices.join(", ")}` : (first?.message ?? "is not valid")}`);
  }
  if (problems.length > 0) throw new ConfigError(problems);
  const raw = withDefaults as Static<typeof BaseConfigSchema>;

  let masterKey = DEVELOPMENT_MASTER_KEY;
  if (raw.MASTER_KEY !== undefined) {
    masterKey = Buffer.from(raw.MASTER_KEY, "base64");
    if (masterKey.length !== 32)
      problems.push("MASTER_KEY: must be 32 bytes, base64-encoded (openssl rand -base64 32)");
  }
  const previousKeys = (raw.MASTER_KEY_PREVIOUS ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean)
    .map((s) => Buffer.from(s, "base64"));
  if (previousKeys.some((key) => key.length !== 32))
    problems.push("MASTER_KEY_PREVIOUS: each key must be 32 bytes, base64-encoded, comma-separated");
  const indexKey = raw.INDEX_KEY === undefined ? undefined : Buffer.from(raw.INDEX_KEY, "base64");
  if (indexKey && indexKey.length !== 32) problems.push("INDEX_KEY: must be 32 bytes, base64-encoded");
  const trustProxy = parseTrustProxy(raw.TRUST_PROXY);
  if (trustProxy === null) problems.push("TRUST_PROXY: must be false, true or a comma list of proxy addresses");

  const infrastructure = infrastructureOf(raw);
  if (typeof infrastructure === "string") problems.push(infrastructure);
  else if (infrastructure.kind === "embedded" && raw.NODE_ENV === "production")
    problems.push(
      "DATABASE_URL and NATS_URL: required in production (without them a service runs on the embedded " +
        "development database and event bus)",
    );

  if (raw.MASTER_KEY === undefined && !nodeEnvIsExplicit)
    problems.push(
      "MASTER_KEY: required (openssl rand -base64 32). NODE_ENV is not set, so this may be a deployment: " +
        "the public development key is used only when NODE_ENV=development or NODE_ENV=test is set explicitly " +
        "(on a laptop: export NODE_ENV=development, or copy .env.example to .env)",
    );
  if (raw.NODE_ENV === "production") {
    if (raw.MASTER_KEY === undefined) problems.push("MASTER_KEY: required in production (openssl rand -base64 32)");
    if (raw.SMTP_URL === undefined) problems.push("SMTP_URL: required in production to deliver e-mail");
    if (trustProxy === true)
      problems.push("TRUST_PROXY: 'true' trusts any client's X-Forwarded-For; list the proxies instead");
    problems.push(...productionProblems(withDefaults as Static<S>));
  }
  if (problems.length > 0) throw new ConfigError(problems);

  return {
    ...(withDefaults as Static<S>),
    MASTER_KEY: masterKey,
    MASTER_KEY_PREVIOUS: previousKeys,
    INDEX_KEY: indexKey,
    usingDevelopmentMasterKey: raw.MASTER_KEY === undefined,
    trustProxy: trustProxy ?? false,
    infrastructure: infrastructure as Infrastructure,
  } as Resolved<S>;
}

/**
 * The servers' addresses, for a service that is not handed the embedded database and event bus; throws in
 * the embedded mode, which only its runner (`pnpm dev`) can provide.
 */
export function serverAddresses(config: BaseConfig): { databaseUrl: string; natsUrl: string } {
  if (config.infrastructure.kind === "servers") return config.infrastructure;
  throw new Error(
    "DATABASE_URL and NATS_URL are not set: set both, or run `pnpm dev`, which provides the embedded mode",
  );
}

/** Both server addresses, or neither (the embedded mode); with only one, the problem naming the other. */
export function infrastructureOf(urls: {
  DATABASE_URL?: string | undefined;
  NATS_URL?: string | undefined;
}): Infrastructure | string {
  const { DATABASE_URL: databaseUrl, NATS_URL: natsUrl } = urls;
  if (databaseUrl && natsUrl) return { kind: "servers", databaseUrl, natsUrl };
  if (!databaseUrl && !natsUrl) return { kind: "embedded" };
  const [missing, present] = databaseUrl ? ["NATS_URL", "DATABASE_URL"] : ["DATABASE_URL", "NATS_URL"];
  return (
    `${missing}: required when ${present} is set (set both to run on servers, or neither for the ` +
    "embedded development mode)"
  );
}
