export { type ActorType, type AuditEntry, type AuditOutcome, requestOrigin, writeAudit } from "./audit";
export { clientSecretMatches, hashClientSecret, newClientCredentials, newClientSecret } from "./credentials";
export { type IdPrefix, newId } from "./ids";
export {
  CHANNELS,
  type Channel,
  ChannelSchema,
  type OtpSettings,
  OtpSettingsSchema,
  otpSettingsOf,
} from "./otp-settings";
