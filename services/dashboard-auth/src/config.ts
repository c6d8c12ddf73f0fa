import { type ConfigOf, defineConfig } from "@ipaas/service-kit";
import Type from "typebox";

/** dashboard-auth's settings: the base ones every service has, and these. */
export const dashboardConfig = defineConfig(
  {
    DASHBOARD_AUTH_PORT: Type.Integer({ default: 7005, minimum: 0, maximum: 65535 }),
    /** The public base URL (the `iss` of its tokens); unset, `http://localhost:<DASHBOARD_AUTH_PORT>`. */
    DASHBOARD_AUTH_ISSUER: Type.String({ default: "http://localhost:7005", pattern: "^https?://" }),
    ACCESS_TOKEN_TTL_SECONDS: Type.Integer({ default: 900, minimum: 60, maximum: 86_400 }),
    /** The longest grace period a rotation may give the previous client secret. */
    CREDENTIAL_GRACE_MAX_SECONDS: Type.Integer({ default: 86_400, minimum: 0, maximum: 30 * 86_400 }),
    /**
     * A dashboard session ends after this long without use, and this long after login whatever happens. The
     * maxima are AAL2's (NIST SP 800-63B §2.2.3): re-authentication after at most 1 h of inactivity and at
     * least every 24 h.
     */
    SESSION_IDLE_MINUTES: Type.Integer({ default: 60, minimum: 1, maximum: 60 }),
    SESSION_ABSOLUTE_HOURS: Type.Integer({ default: 24, minimum: 1, maximum: 24 }),
    /**
     * How long an instance answers for a session from memory without news of it; 0 reads the database for
     * every request. Changes reach every instance by event at once; this bounds a missed one.
     */
    SESSION_VIEW_TTL_SECONDS: Type.Integer({ default: 30, minimum: 0, maximum: 3600 }),
    SESSION_VIEW_MAX_ENTRIES: Type.Integer({ default: 50_000, minimum: 1, maximum: 1_000_000 }),
    /** Where the dashboard UI lives: password-reset links point at `<url>/reset-password#token=…`. */
    DASHBOARD_UI_URL: Type.String({ default: "http://localhost:3000", pattern: "^https?://" }),
    /**
     * Banks that register themselves: `approval` waits for the platform owner, `open` (development) starts
     * them Active, `closed` accepts only banks the platform owner creates.
     */
    BANK_REGISTRATION: Type.Union([Type.Literal("approval"), Type.Literal("open"), Type.Literal("closed")], {
      default: "approval",
    }),
    /**
     * A breached-password range service (`GET <url>/range/<first 5 hex of the SHA-1>`, k-anonymity), such as
     * https://api.pwnedpasswords.com: a new password it lists is refused. Only those 5 hex characters are
     * sent. Unset: no such check.
     */
    BREACHED_PASSWORDS_URL: Type.Optional(Type.String({ pattern: "^https?://" })),
    /** How long the breached-password service has to answer; past it, or on any failure, the check is skipped. */
    BREACHED_PASSWORDS_TIMEOUT_MS: Type.Integer({ default: 2000, minimum: 100, maximum: 10_000 }),
  },
  {
    productionProblems: (settings) =>
      settings.BREACHED_PASSWORDS_URL?.startsWith("http://")
        ? ["BREACHED_PASSWORDS_URL: must be https in production (the hash prefixes and the verdicts travel over it)"]
        : [],
    derivedDefaults: (env) =>
      env.DASHBOARD_AUTH_PORT ? { DASHBOARD_AUTH_ISSUER: `http://localhost:${env.DASHBOARD_AUTH_PORT}` } : {},
  },
);

export type DashboardConfig = ConfigOf<typeof dashboardConfig>;
