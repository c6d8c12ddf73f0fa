import type { Channel, OtpSettings } from "@ipaas/domain";
import { type CountryCode, parsePhoneNumberFromString } from "libphonenumber-js/max";
import { fail, invalidField } from "../../errors";

/** A phone number (E.164) or an email address, normalised, with what the send limits need to know of it. */
export interface Destination {
  channel: Channel;
  kind: "phone" | "email";
  /** E.164 (`+918838118348`) or the lower-cased address. */
  value: string;
  /** The number's country; null for an email. */
  country: string | null;
  /** The number without its last four digits: numbers in one range count together against SMS pumping. */
  range: string | null;
}

/** The seed's `mobile` is the SMS channel. */
export function channelOf(name: string): Channel | null {
  const channel = name.trim().toLowerCase();
  if (channel === "mobile" || channel === "sms") return "sms";
  if (channel === "email" || channel === "whatsapp") return channel;
  return null;
}

const EMAIL =
  /^[^\s@"(),:;<>[\\\]]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$/;

/**
 * Parses and normalises where a code goes, and checks it against the organization's channels and
 * countries. A number without a country code is read in the organization's default country.
 */
export function destinationFor(channelName: string, raw: string, settings: OtpSettings): Destination {
  const channel = channelOf(channelName);
  if (!channel) throw invalidField("channel", "one of sms (or mobile), email, whatsapp");
  if (!settings.channels.includes(channel)) throw fail("CHANNEL_NOT_ALLOWED", `${channel} is not enabled`);
  if (channel === "email") {
    const value = raw.trim().toLowerCase();
    if (value.length > 254 || !EMAIL.test(value)) {
      throw invalidField("destination", "not a valid email address", "INVALID_DESTINATION");
    }
    return { channel, kind: "email", value, country: null, range: null };
  }
  const phone = parsePhoneNumberFromString(raw.trim(), settings.defaultCountry as CountryCode);
  if (!phone?.isValid() || !phone.country) {
    throw invalidField("destination", "not a valid phone number", "INVALID_DESTINATION");
  }
  if (!settings.allowedCountries.includes(phone.country)) {
    throw fail("COUNTRY_NOT_ALLOWED", `numbers in ${phone.country} are not enabled`);
  }
  const value = phone.number;
  return { channel, kind: "phone", value, country: phone.country, range: value.slice(0, -4) };
}
