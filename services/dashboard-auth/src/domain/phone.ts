import { parsePhoneNumberFromString } from "libphonenumber-js";
import { fail } from "../errors";

/** A valid phone number in E.164; without a country code it is read as Indian (the seed's numbers are). */
export function e164(phone: string | number, field = "phone"): string {
  const parsed = parsePhoneNumberFromString(String(phone).trim(), "IN");
  if (!parsed?.isValid()) {
    throw fail("VALIDATION_FAILED", `${field}: not a valid phone number`, {
      errors: [{ field, message: "not a valid phone number" }],
    });
  }
  return parsed.number;
}
