import Type from "typebox";

export const TwoFactorSetup = Type.Object({
  secret: Type.String({ description: "Base32 TOTP secret, for manual entry" }),
  otpauthUrl: Type.String(),
  qrCode: Type.String({ description: "PNG data URL of the otpauth URL" }),
});

export const CodeBody = Type.Object(
  { code: Type.String({ pattern: "^\\s*\\d{6}\\s*$" }) },
  { additionalProperties: false },
);

export const RecoveryCodes = Type.Object({
  message: Type.String(),
  recoveryCodes: Type.Array(Type.String(), { description: "Ten single-use codes, shown this once" }),
});
