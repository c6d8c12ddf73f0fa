import { parsePhoneNumberFromString } from "libphonenumber-js";
import { invalidField } from "../errors";

/** A valid phone number in E.164; without a country code it is read as Indian (the seed's numbers are). */
export function e164(phone: string | number, field = "phone"): string {
  const parsed = parsePhoneNumberFromString(String(phone).trim(), "IN");
  if (!parsed?.isValid()) {
    throw invalidField(field, "not a valid phone number");
  }
  return parsed.number;
}
