// A bank's bounds on its organizations' one-time-code settings: the one rule that clamps settings to them and
// finds the settings outside them, checked without a database.

import fc from "fast-check";
import { Value } from "typebox/value";
import { describe, expect, it } from "vitest";
import {
  CHANNELS,
  clampOtpSettings,
  type OtpBounds,
  type OtpSettings,
  OtpSettingsSchema,
  otpBoundsOf,
  otpColumnsChanged,
  otpSettingOutside,
  otpSettingsOf,
} from "../src/index";

const defaults = otpSettingsOf({ otpChannels: ["sms", "email"], otpSettings: null });

const settings = (overrides: Partial<OtpSettings> = {}): OtpSettings => ({ ...defaults, ...overrides });

const bounds: OtpBounds = {
  channels: ["sms", "email"],
  allowedCountries: ["IN", "AE"],
  maxDailyBudget: 5000,
  maxUserTokenTtlSeconds: 1800,
  requireDeviceBinding: true,
};

describe("clamping settings to a bank's bounds", () => {
  it("leaves settings alone under the platform's limits (no bounds)", () => {
    const wide = settings({ channels: ["sms", "email", "whatsapp"], allowedCountries: ["US"], defaultCountry: "US" });
    expect(clampOtpSettings(wide, null)).toEqual(wide);
    expect(otpSettingOutside(wide, null)).toBeNull();
  });

  it("drops what the bank does not allow and lowers what is above its maximum", () => {
    const wide = settings({
      channels: ["sms", "email", "whatsapp"],
      allowedCountries: ["US", "AE", "IN"],
      defaultCountry: "US",
      dailyBudget: 10_000,
      userTokenTtlSeconds: 3600,
      requireDeviceBinding: false,
      codeLength: 8,
    });
    expect(clampOtpSettings(wide, bounds)).toEqual({
      ...wide,
      channels: ["sms", "email"],
      // The organization's own order is kept; the default moves to the first country left.
      allowedCountries: ["AE", "IN"],
      defaultCountry: "AE",
      dailyBudget: 5000,
      userTokenTtlSeconds: 1800,
      requireDeviceBinding: true,
    });
  });

  it("keeps a default country that is still allowed", () => {
    const clamped = clampOtpSettings(settings({ allowedCountries: ["US", "IN"], defaultCountry: "IN" }), bounds);
    expect(clamped).toMatchObject({ allowedCountries: ["IN"], defaultCountry: "IN" });
  });

  it("leaves no country when none of the organization's is allowed, which refuses every phone number", () => {
    const clamped = clampOtpSettings(settings({ allowedCountries: ["US"], defaultCountry: "US" }), bounds);
    expect(clamped.allowedCountries).toEqual([]);
    expect(Value.Check(OtpSettingsSchema, clamped)).toBe(true);
  });

  it("changes nothing in settings already within", () => {
    const within = settings({
      channels: ["email"],
      dailyBudget: 10,
      userTokenTtlSeconds: 600,
      requireDeviceBinding: true,
    });
    expect(clampOtpSettings(within, bounds)).toEqual(within);
    expect(otpSettingOutside(within, bounds)).toBeNull();
  });
});

describe("finding a setting outside a bank's bounds", () => {
  const within = settings({ requireDeviceBinding: true, dailyBudget: 5000, userTokenTtlSeconds: 1800 });

  it("names each bounded setting, and says why", () => {
    expect(otpSettingOutside({ ...within, channels: ["sms", "whatsapp"] }, bounds)).toEqual({
      field: "channels",
      message: "not allowed by the bank: whatsapp",
    });
    expect(otpSettingOutside({ ...within, allowedCountries: ["IN", "US", "GB"] }, bounds)).toEqual({
      field: "allowedCountries",
      message: "not allowed by the bank: US, GB",
    });
    expect(otpSettingOutside({ ...within, dailyBudget: 5001 }, bounds)).toEqual({
      field: "dailyBudget",
      message: "at most 5000 (the bank's limit)",
    });
    expect(otpSettingOutside({ ...within, userTokenTtlSeconds: 1801 }, bounds)).toEqual({
      field: "userTokenTtlSeconds",
      message: "at most 1800 (the bank's limit)",
    });
    expect(otpSettingOutside({ ...within, requireDeviceBinding: false }, bounds)).toEqual({
      field: "requireDeviceBinding",
      message: "required by the bank",
    });
  });

  it("accepts settings at the bank's maximum", () => {
    expect(otpSettingOutside(within, bounds)).toBeNull();
  });
});

describe("the rule holds for any settings the platform accepts and any bounds", () => {
  const country = fc.constantFrom("IN", "AE", "US", "GB", "SG");
  const countries = fc.uniqueArray(country, { maxLength: 5 });
  const channels = fc.subarray([...CHANNELS]);
  const settingsArb = fc
    .record({
      channels,
      allowedCountries: countries,
      defaultCountry: country,
      dailyBudget: fc.integer({ min: 0, max: 10_000_000 }),
      userTokenTtlSeconds: fc.integer({ min: 300, max: 86_400 }),
      requireDeviceBinding: fc.boolean(),
    })
    // Settings the platform accepts: the default country is one of the allowed ones, when any are.
    .map((s) =>
      settings({
        ...s,
        defaultCountry:
          s.allowedCountries[0] && !s.allowedCountries.includes(s.defaultCountry)
            ? s.allowedCountries[0]
            : s.defaultCountry,
      }),
    );
  const boundsArb = fc.record({
    channels: channels.filter((c) => c.length > 0),
    allowedCountries: countries.filter((c) => c.length > 0),
    maxDailyBudget: fc.integer({ min: 0, max: 10_000_000 }),
    maxUserTokenTtlSeconds: fc.integer({ min: 300, max: 86_400 }),
    requireDeviceBinding: fc.boolean(),
  });

  it("clamps to settings within the bounds, which clamping again leaves alone", () => {
    fc.assert(
      fc.property(settingsArb, boundsArb, (s, b) => {
        const clamped = clampOtpSettings(s, b);
        expect(otpSettingOutside(clamped, b)).toBeNull();
        expect(clampOtpSettings(clamped, b)).toEqual(clamped);
      }),
    );
  });

  it("finds a setting outside exactly when clamping changes something", () => {
    fc.assert(
      fc.property(settingsArb, boundsArb, (s, b) => {
        const changed = JSON.stringify(clampOtpSettings(s, b)) !== JSON.stringify(s);
        expect(otpSettingOutside(s, b) !== null).toBe(changed);
      }),
    );
  });

  it("never widens a setting, and leaves settings the platform accepts", () => {
    fc.assert(
      fc.property(settingsArb, boundsArb, (s, b) => {
        const clamped = clampOtpSettings(s, b);
        expect(clamped.channels.every((c) => s.channels.includes(c))).toBe(true);
        expect(clamped.allowedCountries.every((c) => s.allowedCountries.includes(c))).toBe(true);
        expect(clamped.dailyBudget).toBeLessThanOrEqual(s.dailyBudget);
        expect(clamped.userTokenTtlSeconds).toBeLessThanOrEqual(s.userTokenTtlSeconds);
        expect(clamped.requireDeviceBinding || !s.requireDeviceBinding).toBe(true);
        expect(Value.Check(OtpSettingsSchema, clamped)).toBe(true);
      }),
    );
  });
});

describe("a bank's stored bounds", () => {
  it("reads null as the platform's limits, and a valid value as it is", () => {
    expect(otpBoundsOf({ organizationOtp: null })).toBeNull();
    expect(otpBoundsOf({ organizationOtp: bounds })).toEqual(bounds);
  });

  it("reads a value written by hand that does not fit as allowing nothing, never as no bounds", () => {
    const broken = otpBoundsOf({ organizationOtp: { channels: ["sms"] } });
    const clamped = clampOtpSettings(settings({ channels: ["sms", "email"] }), broken);
    expect(clamped).toMatchObject({ channels: [], allowedCountries: [], dailyBudget: 0, requireDeviceBinding: true });
    expect(Value.Check(OtpSettingsSchema, clamped)).toBe(true);
  });
});

describe("the columns a change of settings writes", () => {
  it("writes nothing when nothing changes, and only the column that changes", () => {
    expect(otpColumnsChanged(defaults, { ...defaults })).toEqual({});
    expect(otpColumnsChanged(defaults, { ...defaults, channels: ["email"] })).toEqual({ otpChannels: ["email"] });
    const { channels: _channels, ...stored } = { ...defaults, dailyBudget: 10 };
    expect(otpColumnsChanged(defaults, { ...defaults, dailyBudget: 10 })).toEqual({ otpSettings: stored });
  });

  it("reads the settings back as they were written", () => {
    const next = settings({ channels: ["whatsapp"], ttlSeconds: 120, requireDeviceBinding: true });
    const columns = otpColumnsChanged(defaults, next);
    expect(otpSettingsOf({ otpChannels: columns.otpChannels ?? [], otpSettings: columns.otpSettings })).toEqual(next);
  });
});
