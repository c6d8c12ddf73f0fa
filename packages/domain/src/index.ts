export { type ActorType, type AuditEntry, type AuditOutcome, requestOrigin, writeAudit } from "./audit";
export {
  API_KEY_PREFIX,
  apiKeyOf,
  clientSecretMatches,
  credentialsOfApiKey,
  hashClientSecret,
  newClientCredentials,
  newClientSecret,
} from "./credentials";
export { type IdPrefix, newId } from "./ids";
export {
  clampOtpSettings,
  type OtpBounds,
  OtpBoundsSchema,
  otpBoundsOf,
  otpSettingOutside,
} from "./otp-bounds";
export {
  CHANNELS,
  type Channel,
  ChannelListSchema,
  ChannelSchema,
  CountryListSchema,
  type OtpSettings,
  OtpSettingsSchema,
  otpColumnsChanged,
  otpSettingsOf,
} from "./otp-settings";
