import { type ConfigOf, defineConfig } from "@ipaas/service-kit";
import Type from "typebox";

/** api-auth's settings: the base ones every service has, and these. */
export const apiConfig = defineConfig(
  {
    API_AUTH_PORT: Type.Integer({ default: 7006, minimum: 0, maximum: 65535 }),
    /** `dev` records messages in memory and the log; production needs a real gateway. */
    SMS_PROVIDER: Type.Union([Type.Literal("dev"), Type.Literal("http")], { default: "dev" }),
    API_AUTH_ISSUER: Type.String({ default: "http://localhost:7006", pattern: "^https?://" }),
    API_TOKEN_TTL_SECONDS: Type.Integer({ default: 3600, minimum: 60, maximum: 86_400 }),
    /** The `aud` of partner access tokens: the resource servers (the platform's APIs) that accept them. */
    API_TOKEN_AUDIENCE: Type.String({ default: "ipaas-partner-api", minLength: 1 }),
    /** api-auth keeps organization credentials in memory this long; events invalidate sooner. */
    CLIENT_CACHE_TTL_SECONDS: Type.Integer({ default: 30, minimum: 0, maximum: 3600 }),
    CLIENT_CACHE_MAX_ENTRIES: Type.Integer({ default: 10_000, minimum: 1, maximum: 1_000_000 }),
  },
  (settings) =>
    settings.SMS_PROVIDER === "dev"
      ? ["SMS_PROVIDER: the dev provider sends nothing and is refused in production"]
      : [],
);

export type ApiConfig = ConfigOf<typeof apiConfig>;
