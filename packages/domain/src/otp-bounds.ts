import Type, { type Static } from "typebox";
import { Value } from "typebox/value";
import {
  ChannelListSchema,
  CountryListSchema,
  type OtpSettings,
  OtpSettingsSchema,
  USER_TOKEN_TTL_LIMITS,
} from "./otp-settings";

/*
 * A bank's bounds on its organizations' one-time-code settings: set by the bank (or the platform owner) in
 * dashboard-auth, and held by every write of an organization's settings there, whoever makes it. api-auth
 * never reads them: it applies the organization's settings, which are always within them.
 */

const { dailyBudget, userTokenTtlSeconds } = OtpSettingsSchema.properties;

/** A bank's bounds, as dashboard-auth stores them (`tenants.organizationOtp`); each within the platform's limits. */
export const OtpBoundsSchema = Type.Object(
  {
    /** The channels its organizations may enable. */
    channels: ChannelListSchema,
    /** The countries whose numbers its organizations may send codes to. */
    allowedCountries: CountryListSchema,
    /** The most an organization's `dailyBudget` may be. */
    maxDailyBudget: dailyBudget,
    /** The most an organization's `userTokenTtlSeconds` may be. */
    maxUserTokenTtlSeconds: userTokenTtlSeconds,
    /** Whether every organization must bind its users' tokens to their devices. */
    requireDeviceBinding: Type.Boolean(),
  },
  { additionalProperties: false },
);

export type OtpBounds = Static<typeof OtpBoundsSchema>;

/** Bounds only the narrowest settings the platform accepts fit within. */
const NOTHING_ALLOWED: OtpBounds = {
  channels: [],
  allowedCountries: [],
  maxDailyBudget: 0,
  maxUserTokenTtlSeconds: USER_TOKEN_TTL_LIMITS.minimum,
  requireDeviceBinding: true,
};

/**
 * A bank's bounds; null when it keeps to the platform's limits. A stored value that does not fit the schema
 * (written by hand) allows nothing rather than widening anything.
 */
export function otpBoundsOf(bank: { organizationOtp: unknown }): OtpBounds | null {
  const stored = bank.organizationOtp;
  if (stored === null || stored === undefined) return null;
  return Value.Check(OtpBoundsSchema, stored) ? structuredClone(stored) : NOTHING_ALLOWED;
}

/**
 * `settings` brought within `bounds`: the channels and countries the bank does not allow are dropped (the
 * default country moves to the first country left; with none left, no phone number is allowed at all), the
 * daily budget and the user token's lifetime come down to the bank's maximum, and device binding is on when
 * the bank requires it. Settings already within come back unchanged.
 */
export function clampOtpSettings(settings: OtpSettings, bounds: OtpBounds | null): OtpSettings {
  if (!bounds) return settings;
  const allowedCountries = settings.allowedCountries.filter((c) => bounds.allowedCountries.includes(c));
  return {
    ...settings,
    channels: settings.channels.filter((c) => bounds.channels.includes(c)),
    allowedCountries,
    defaultCountry: allowedCountries.includes(settings.defaultCountry)
      ? settings.defaultCountry
      : (allowedCountries[0] ?? settings.defaultCountry),
    dailyBudget: Math.min(settings.dailyBudget, bounds.maxDailyBudget),
    userTokenTtlSeconds: Math.min(settings.userTokenTtlSeconds, bounds.maxUserTokenTtlSeconds),
    requireDeviceBinding: settings.requireDeviceBinding || bounds.requireDeviceBinding,
  };
}

/** The settings a bank bounds, in the order a refusal names them. */
const BOUNDED = ["channels", "allowedCountries", "dailyBudget", "userTokenTtlSeconds", "requireDeviceBinding"] as const;
export type BoundedOtpSetting = (typeof BOUNDED)[number];

/**
 * The first setting outside `bounds`, and why; null when every one is within. A setting is outside exactly
 * when clamping would change it, so what a bank refuses and what its narrowing takes away cannot disagree.
 */
export function otpSettingOutside(
  settings: OtpSettings,
  bounds: OtpBounds | null,
): { field: BoundedOtpSetting; message: string } | null {
  const within = clampOtpSettings(settings, bounds);
  const field = BOUNDED.find((name) => JSON.stringify(settings[name]) !== JSON.stringify(within[name]));
  return field ? { field, message: refusal(settings[field], within[field]) } : null;
}

function refusal(wanted: unknown, allowed: unknown): string {
  if (Array.isArray(wanted) && Array.isArray(allowed)) {
    return `not allowed by the bank: ${wanted.filter((v) => !allowed.includes(v)).join(", ")}`;
  }
  if (typeof allowed === "number") return `at most ${allowed} (the bank's limit)`;
  return "required by the bank";
}
