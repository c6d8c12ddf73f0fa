import { type ConfigOf, defineConfig } from "@ipaas/service-kit";
import Type from "typebox";

/** api-auth's settings: the base ones every service has, and these. */
export const apiConfig = defineConfig(
  {
    API_AUTH_PORT: Type.Integer({ default: 7006, minimum: 0, maximum: 65535 }),
    /**
     * How SMS and WhatsApp codes are sent: `http`, a Messages API of the Twilio kind (`SMS_API_URL`,
     * `SMS_ACCOUNT_ID`, `SMS_AUTH_TOKEN`, `SMS_FROM`, `WHATSAPP_FROM`); `dev` prints them on the console,
     * marked as a development delivery, and is refused in production.
     */
    SMS_PROVIDER: Type.Union([Type.Literal("dev"), Type.Literal("http")], { default: "dev" }),
    /** The API's base, e.g. `https://api.twilio.com/2010-04-01`: messages go to `<base>/Accounts/<id>/Messages.json`. */
    SMS_API_URL: Type.Optional(Type.String({ pattern: "^https?://" })),
    SMS_ACCOUNT_ID: Type.Optional(Type.String({ minLength: 1 })),
    SMS_AUTH_TOKEN: Type.Optional(Type.String({ minLength: 1 })),
    /** The sender of SMS codes: a number in E.164 or a sender id. */
    SMS_FROM: Type.Optional(Type.String({ minLength: 1 })),
    /** The WhatsApp sender number (E.164); WhatsApp codes are refused at delivery without it. */
    WHATSAPP_FROM: Type.Optional(Type.String({ minLength: 1 })),
    /** Tries at delivering one code before it is marked failed. */
    OTP_DELIVERY_MAX_ATTEMPTS: Type.Integer({ default: 5, minimum: 1, maximum: 20 }),
    /** How long one try at a gateway or SMTP server may take. */
    OTP_DELIVERY_TIMEOUT_MS: Type.Integer({ default: 10_000, minimum: 100, maximum: 30_000 }),
    /** The wait before the first retry; it doubles with each further one (at most 60 s). */
    OTP_DELIVERY_RETRY_MS: Type.Integer({ default: 2_000, minimum: 10, maximum: 60_000 }),
    /** The public base URL (the `iss` of its tokens); unset, `http://localhost:<API_AUTH_PORT>`. */
    API_AUTH_ISSUER: Type.String({ default: "http://localhost:7006", pattern: "^https?://" }),
    API_TOKEN_TTL_SECONDS: Type.Integer({ default: 3600, minimum: 60, maximum: 86_400 }),
    /** The `aud` of partner access tokens: the resource servers (the platform's APIs) that accept them. */
    API_TOKEN_AUDIENCE: Type.String({ default: "ipaas-partner-api", minLength: 1 }),
    /** api-auth keeps organization credentials in memory this long; events invalidate sooner. */
    CLIENT_CACHE_TTL_SECONDS: Type.Integer({ default: 30, minimum: 0, maximum: 3600 }),
    CLIENT_CACHE_MAX_ENTRIES: Type.Integer({ default: 10_000, minimum: 1, maximum: 1_000_000 }),
  },
  {
    productionProblems: (settings) =>
      settings.SMS_PROVIDER === "dev"
        ? ["SMS_PROVIDER: the dev provider only prints codes on the console and is refused in production"]
        : (["SMS_API_URL", "SMS_ACCOUNT_ID", "SMS_AUTH_TOKEN", "SMS_FROM"] as const)
            .filter((name) => settings[name] === undefined)
            .map((name) => `${name}: required with SMS_PROVIDER=http`),
    derivedDefaults: (env) => (env.API_AUTH_PORT ? { API_AUTH_ISSUER: `http://localhost:${env.API_AUTH_PORT}` } : {}),
  },
);

export type ApiConfig = ConfigOf<typeof apiConfig>;
