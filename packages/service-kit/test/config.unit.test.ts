import Type from "typebox";
import { describe, expect, it } from "vitest";
import { ConfigError, defineConfig } from "../src/config";

/** A service's configuration as the services define theirs: the base settings and its own. */
const service = defineConfig(
  {
    SERVICE_PORT: Type.Integer({ default: 7005, minimum: 0, maximum: 65535 }),
    SMS_PROVIDER: Type.Union([Type.Literal("dev"), Type.Literal("http")], { default: "dev" }),
    SERVICE_URL: Type.String({ default: "http://localhost:7005", pattern: "^https?://" }),
  },
  {
    productionProblems: (settings) =>
      settings.SMS_PROVIDER === "dev"
        ? ["SMS_PROVIDER: the dev provider sends nothing and is refused in production"]
        : [],
    derivedDefaults: (env) => (env.SERVICE_PORT ? { SERVICE_URL: `http://localhost:${env.SERVICE_PORT}` } : {}),
  },
);
const loadConfig = service.load;

const KEY = Buffer.alloc(32, 1).toString("base64");
/** Production runs on servers. */
const SERVERS = { DATABASE_URL: "postgres://db.internal:5432/ipaas", NATS_URL: "nats://nats.internal:4222" };

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}

describe("configuration", () => {
  it("starts a developer's laptop (NODE_ENV=development) with defaults and the development master key", () => {
    const config = loadConfig({ NODE_ENV: "development" });
    expect(config.SERVICE_PORT).toBe(7005);
    // No server addresses: the embedded mode (which only `pnpm dev` provides).
    expect(config.DATABASE_URL).toBeUndefined();
    expect(config.infrastructure).toEqual({ kind: "embedded" });
    expect(config.usingDevelopmentMasterKey).toBe(true);
    expect(config.MASTER_KEY).toHaveLength(32);
    expect(config.trustProxy).toBe(false);
  });

  // Regression: NODE_ENV defaulted to development, so a deployment that forgot it ran on the public key.
  it("refuses to start without MASTER_KEY when NODE_ENV is not set, saying what to do", () => {
    const unset: Array<Record<string, string>> = [{}, { NODE_ENV: "" }, { NODE_ENV: "", MASTER_KEY: "" }];
    for (const env of unset) {
      const problems = problemsOf(env);
      expect(problems).toHaveLength(1);
      expect(problems[0]).toMatch(/^MASTER_KEY: required \(openssl rand -base64 32\)/);
      expect(problems[0]).toContain("NODE_ENV=development or NODE_ENV=test");
    }
    expect(() => loadConfig({})).toThrow(ConfigError);
    // Its own key is all a deployment needs to start without NODE_ENV.
    expect(loadConfig({ MASTER_KEY: KEY }).usingDevelopmentMasterKey).toBe(false);
  });

  it("derives a default from another setting, which an explicit value overrides", () => {
    expect(loadConfig({ NODE_ENV: "development" }).SERVICE_URL).toBe("http://localhost:7005");
    expect(loadConfig({ NODE_ENV: "development", SERVICE_PORT: "17005" }).SERVICE_URL).toBe("http://localhost:17005");
    const explicit = { NODE_ENV: "development", SERVICE_PORT: "17005", SERVICE_URL: "https://auth.example.test" };
    expect(loadConfig(explicit).SERVICE_URL).toBe("https://auth.example.test");
    expect(loadConfig({ ...explicit, SERVICE_URL: "" }).SERVICE_URL).toBe("http://localhost:17005");
  });

  it("takes both server addresses or neither, and neither is refused in production", () => {
    expect(loadConfig({ NODE_ENV: "development", ...SERVERS }).infrastructure).toEqual({
      kind: "servers",
      databaseUrl: SERVERS.DATABASE_URL,
      natsUrl: SERVERS.NATS_URL,
    });
    expect(problemsOf({ NODE_ENV: "development", DATABASE_URL: SERVERS.DATABASE_URL })).toEqual([
      "NATS_URL: required when DATABASE_URL is set (set both to run on servers, or neither for the embedded development mode)",
    ]);
    expect(problemsOf({ NODE_ENV: "test", NATS_URL: SERVERS.NATS_URL })).toEqual([
      "DATABASE_URL: required when NATS_URL is set (set both to run on servers, or neither for the embedded development mode)",
    ]);
    // An empty value is no value.
    expect(loadConfig({ NODE_ENV: "development", DATABASE_URL: "", NATS_URL: "" }).infrastructure.kind).toBe(
      "embedded",
    );
    const production = { NODE_ENV: "production", MASTER_KEY: KEY, SMTP_URL: "smtp://mail:25", SMS_PROVIDER: "http" };
    expect(problemsOf(production)).toContain(
      "DATABASE_URL and NATS_URL: required in production (without them a service runs on the embedded development database and event bus)",
    );
    expect(problemsOf({ ...production, ...SERVERS })).toEqual([]);
  });

  it("uses the development master key only when NODE_ENV is explicitly development or test", () => {
    for (const NODE_ENV of ["development", "test"]) {
      const config = loadConfig({ NODE_ENV });
      expect(config.NODE_ENV).toBe(NODE_ENV);
      expect(config.usingDevelopmentMasterKey).toBe(true);
    }
    // A value that is not one of the three (a typo, a "staging") is refused outright.
    for (const NODE_ENV of ["staging", "Development", "prod"])
      expect(problemsOf({ NODE_ENV })).toEqual(["NODE_ENV: must be one of development, test, production"]);
  });

  it("converts and validates types, naming each bad variable", () => {
    expect(loadConfig({ NODE_ENV: "development", SERVICE_PORT: "8080", MIGRATE_ON_START: "false" })).toMatchObject({
      SERVICE_PORT: 8080,
      MIGRATE_ON_START: false,
    });
    const problems = problemsOf({ SERVICE_PORT: "seventy", DATABASE_URL: "mysql://x", LOG_LEVEL: "loud" });
    expect(problems.join("\n")).toMatch(/SERVICE_PORT/);
    expect(problems.join("\n")).toMatch(/DATABASE_URL/);
    expect(problems.join("\n")).toMatch(/LOG_LEVEL/);
  });

  it("refuses production without a master key, with a dev SMS provider, or without SMTP", () => {
    const problems = problemsOf({ NODE_ENV: "production" });
    expect(problems).toContain("MASTER_KEY: required in production (openssl rand -base64 32)");
    expect(problems.some((p) => p.startsWith("SMS_PROVIDER:"))).toBe(true);
    expect(problems.some((p) => p.startsWith("SMTP_URL:"))).toBe(true);
  });

  it("accepts production with its own key, a real SMS provider and SMTP", () => {
    const config = loadConfig({
      NODE_ENV: "production",
      ...SERVERS,
      MASTER_KEY: KEY,
      SMS_PROVIDER: "http",
      SMTP_URL: "smtp://mail.internal:25",
      TRUST_PROXY: "10.0.0.0/8, 127.0.0.1",
    });
    expect(config.usingDevelopmentMasterKey).toBe(false);
    expect(config.MASTER_KEY.equals(Buffer.alloc(32, 1))).toBe(true);
    expect(config.trustProxy).toEqual(["10.0.0.0/8", "127.0.0.1"]);
  });

  it("reads the replaced master keys and the index key of a rotation, and refuses keys of the wrong length", () => {
    const previous = [Buffer.alloc(32, 2), Buffer.alloc(32, 3)].map((k) => k.toString("base64"));
    const config = loadConfig({
      NODE_ENV: "test",
      MASTER_KEY: KEY,
      MASTER_KEY_PREVIOUS: previous.join(", "),
      INDEX_KEY: previous[1],
    });
    expect(config.MASTER_KEY_PREVIOUS.map((k) => k[0])).toEqual([2, 3]);
    expect(config.INDEX_KEY?.equals(Buffer.alloc(32, 3))).toBe(true);
    const short = Buffer.alloc(16).toString("base64");
    expect(problemsOf({ NODE_ENV: "test", MASTER_KEY_PREVIOUS: `${previous[0]},${short}` })).toEqual([
      expect.stringMatching(/^MASTER_KEY_PREVIOUS: each key must be 32 bytes/),
    ]);
    expect(problemsOf({ NODE_ENV: "test", INDEX_KEY: short })).toEqual([
      expect.stringMatching(/^INDEX_KEY: must be 32 bytes/),
    ]);
  });

  it("refuses a master key of the wrong length and trusting every proxy in production", () => {
    expect(problemsOf({ MASTER_KEY: Buffer.alloc(16).toString("base64") })[0]).toMatch(/MASTER_KEY: must be 32 bytes/);
    const problems = problemsOf({
      NODE_ENV: "production",
      ...SERVERS,
      MASTER_KEY: KEY,
      SMS_PROVIDER: "http",
      SMTP_URL: "smtp://m:25",
      TRUST_PROXY: "true",
    });
    expect(problems).toEqual([expect.stringMatching(/^TRUST_PROXY:/)]);
  });
});

describe("METRICS_TOKEN", () => {
  it("is optional, and at least 32 characters when set", () => {
    expect(loadConfig({ NODE_ENV: "test" }).METRICS_TOKEN).toBeUndefined();
    const token = "m".repeat(32);
    expect(loadConfig({ NODE_ENV: "test", METRICS_TOKEN: token }).METRICS_TOKEN).toBe(token);
    expect(problemsOf({ NODE_ENV: "test", METRICS_TOKEN: "short-token" })).toEqual([
      expect.stringMatching(/^METRICS_TOKEN: /),
    ]);
  });
});
