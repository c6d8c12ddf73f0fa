import Type, { type Static } from "typebox";
import { Value } from "typebox/value";

/*
 * An organization's one-time-code settings: written by dashboard-auth (its admin, in PUT /v1/organizations),
 * read by api-auth at every send and verification.
 */

export const CHANNELS = ["sms", "email", "whatsapp"] as const;
export type Channel = (typeof CHANNELS)[number];
export const ChannelSchema = Type.Union([Type.Literal("sms"), Type.Literal("email"), Type.Literal("whatsapp")]);

/** An organization's one-time-code settings, as dashboard-auth stores them (`tenants.otpSettings`). */
export const OtpSettingsSchema = Type.Object({
  /** 6 digits is 20 bits, the least NIST SP 800-63B accepts for a code; 8 at most. */
  codeLength: Type.Integer({ minimum: 6, maximum: 8, default: 6 }),
  ttlSeconds: Type.Integer({ minimum: 60, maximum: 600, default: 300 }),
  /** ISO 3166-1 alpha-2: the country of a number written without its country code. */
  defaultCountry: Type.String({ pattern: "^[A-Z]{2}$", default: "IN" }),
  allowedCountries: Type.Array(Type.String({ pattern: "^[A-Z]{2}$" }), { default: ["IN"] }),
  /** Codes the organization may send per UTC day, on every channel together. */
  dailyBudget: Type.Integer({ minimum: 0, maximum: 10_000_000, default: 10_000 }),
  userTokenTtlSeconds: Type.Integer({ minimum: 300, maximum: 86_400, default: 3600 }),
  /** The web origins of the organization's apps, which may call the profile API from a browser (CORS). */
  appOrigins: Type.Array(Type.String({ pattern: "^https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?$", maxLength: 200 }), {
    default: [],
    maxItems: 20,
    uniqueItems: true,
  }),
});

export type OtpSettings = Static<typeof OtpSettingsSchema> & { channels: Channel[] };

/**
 * The settings in force for an organization: its enabled channels (`tenants.otpChannels`) and its stored
 * settings over the defaults. A stored value that does not fit the schema (written by hand) falls back to
 * the defaults rather than widening anything.
 */
export function otpSettingsOf(organization: { otpChannels: readonly string[]; otpSettings: unknown }): OtpSettings {
  const stored = typeof organization.otpSettings === "object" && organization.otpSettings !== null;
  const candidate = Value.Default(OtpSettingsSchema, stored ? structuredClone(organization.otpSettings) : {});
  const settings = Value.Check(OtpSettingsSchema, candidate)
    ? (candidate as Static<typeof OtpSettingsSchema>)
    : (Value.Default(OtpSettingsSchema, {}) as Static<typeof OtpSettingsSchema>);
  const channels = CHANNELS.filter((c) => organization.otpChannels.includes(c));
  return { ...settings, channels };
}
