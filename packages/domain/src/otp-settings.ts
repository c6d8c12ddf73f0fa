import Type, { type Static } from "typebox";
import { Value } from "typebox/value";

/*
 * An organization's one-time-code settings: written by dashboard-auth (its admin, in PUT /v1/organizations),
 * read by api-auth at every send and verification.
 */

export const CHANNELS = ["sms", "email", "whatsapp"] as const;
export type Channel = (typeof CHANNELS)[number];
export const ChannelSchema = Type.Union([Type.Literal("sms"), Type.Literal("email"), Type.Literal("whatsapp")]);
/** The channels someone chooses: at least one, each once. */
export const ChannelListSchema = Type.Array(ChannelSchema, {
  minItems: 1,
  maxItems: CHANNELS.length,
  uniqueItems: true,
});

/** ISO 3166-1 alpha-2. */
export const CountrySchema = Type.String({ pattern: "^[A-Z]{2}$" });
/** The countries someone chooses: at least one, each once. */
export const CountryListSchema = Type.Array(CountrySchema, { minItems: 1, maxItems: 250, uniqueItems: true });

/** How long a user token may live, in seconds. */
export const USER_TOKEN_TTL_LIMITS = { minimum: 300, maximum: 86_400 } as const;

/**
 * An organization's one-time-code settings, as dashboard-auth stores them (`tenants.otpSettings`), within the
 * platform's limits. The schemas carry no defaults (`otpSettingsDefaults` has them): request bodies reuse them,
 * and the validator fills every property left out of a body with its default, so a change of one setting
 * would reset the others.
 */
export const OtpSettingsSchema = Type.Object({
  /** 6 digits is 20 bits, the least NIST SP 800-63B accepts for a code; 8 at most. */
  codeLength: Type.Integer({ minimum: 6, maximum: 8 }),
  ttlSeconds: Type.Integer({ minimum: 60, maximum: 600 }),
  /** The country of a number written without its country code. */
  defaultCountry: CountrySchema,
  /** Empty only when the organization's bank narrowed its countries to none of these: no phone number is allowed. */
  allowedCountries: Type.Array(CountrySchema),
  /** Codes the organization may send per UTC day, on every channel together. */
  dailyBudget: Type.Integer({ minimum: 0, maximum: 10_000_000 }),
  userTokenTtlSeconds: Type.Integer(USER_TOKEN_TTL_LIMITS),
  /** The web origins of the organization's apps, which may call the profile API from a browser (CORS). */
  appOrigins: Type.Array(Type.String({ pattern: "^https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?$", maxLength: 200 }), {
    maxItems: 20,
    uniqueItems: true,
  }),
  /**
   * Tokens only for a key the person's device holds: verification must carry the device's public key, and
   * the profile API then demands a DPoP proof signed with it (RFC 9449), so the backend cannot use the token.
   */
  requireDeviceBinding: Type.Boolean(),
});

/** The settings as `tenants.otpSettings` holds them; the channels are a column of their own. */
export type StoredOtpSettings = Static<typeof OtpSettingsSchema>;
export type OtpSettings = StoredOtpSettings & { channels: Channel[] };

/** What an organization has until it changes its settings. */
function otpSettingsDefaults(): StoredOtpSettings {
  return {
    codeLength: 6,
    ttlSeconds: 300,
    defaultCountry: "IN",
    allowedCountries: ["IN"],
    dailyBudget: 10_000,
    userTokenTtlSeconds: 3600,
    appOrigins: [],
    requireDeviceBinding: false,
  };
}

/**
 * The settings in force for an organization: its enabled channels (`tenants.otpChannels`) and its stored
 * settings over the defaults. A stored value that does not fit the schema (written by hand) falls back to
 * the defaults rather than widening anything.
 */
export function otpSettingsOf(organization: { otpChannels: readonly string[]; otpSettings: unknown }): OtpSettings {
  const stored = organization.otpSettings;
  const isObject = typeof stored === "object" && stored !== null && !Array.isArray(stored);
  const candidate = { ...otpSettingsDefaults(), ...(isObject ? structuredClone(stored) : {}) };
  const settings = Value.Check(OtpSettingsSchema, candidate) ? candidate : otpSettingsDefaults();
  const channels = CHANNELS.filter((c) => organization.otpChannels.includes(c));
  return { ...settings, channels };
}

/**
 * The columns to write so that an organization whose settings are `current` has `next`: only those that
 * differ, so nothing is written (and nothing is frozen over the defaults) when the two agree.
 */
export function otpColumnsChanged(
  current: OtpSettings,
  next: OtpSettings,
): { otpChannels?: Channel[]; otpSettings?: StoredOtpSettings } {
  const { channels, ...settings } = next;
  const { channels: currentChannels, ...currentSettings } = current;
  return {
    ...(sameValues({ channels }, { channels: currentChannels }) ? {} : { otpChannels: channels }),
    ...(sameValues(settings, currentSettings) ? {} : { otpSettings: settings }),
  };
}

function sameValues(a: Record<string, unknown>, b: Record<string, unknown>): boolean {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  return [...keys].every((key) => JSON.stringify(a[key]) === JSON.stringify(b[key]));
}
