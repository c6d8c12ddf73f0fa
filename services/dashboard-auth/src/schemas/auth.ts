import Type from "typebox";
import { MAX_PASSWORD_LENGTH } from "../domain/password-policy";

const Problem = Type.Ref("Problem");

/** Problem responses a route can give, for the OpenAPI document. */
export function problems(...statuses: number[]) {
  return Object.fromEntries(statuses.map((s) => [s, Problem]));
}

// Lengths are bounds against abuse; the real rules (password policy, email shape) run in the domain.
export const Email = Type.String({ format: "email", maxLength: 254, description: "Case is ignored" });
const Password = Type.String({ minLength: 1, maxLength: MAX_PASSWORD_LENGTH });
export const Name = Type.String({ minLength: 1, maxLength: 120, pattern: "\\S" });

/** A bank's address: a few named lines. A record's key schema is not checked by JSON Schema, so the key bound is `propertyNames`. */
export const Address = Type.Record(Type.String(), Type.String({ maxLength: 300 }), {
  maxProperties: 12,
  propertyNames: { minLength: 1, maxLength: 40 },
  description: "Where the bank is: line1, line2, city, state, postalCode, country… (keys of at most 40 characters)",
});
export const BankName = Type.String({ minLength: 1, maxLength: 200, pattern: "\\S" });
const Timestamp = Type.String({ format: "date-time" });

export const BankRegistration = Type.Object(
  {
    bankName: BankName,
    branch: BankName,
    name: Name,
    email: Email,
    password: Password,
    address: Address,
  },
  { additionalProperties: false },
);

export const BankRegistered = Type.Object({
  bankId: Type.String(),
  _id: Type.String({ description: "The same as bankId (kept for clients of the original API)" }),
  bankName: Type.String(),
  branch: Type.String(),
  address: Type.Record(Type.String(), Type.String()),
  status: Type.String(),
  isDeleted: Type.Boolean(),
  createdAt: Timestamp,
  updatedAt: Timestamp,
  email: Type.String(),
  name: Type.String(),
  roleId: Type.String(),
  role: Type.String(),
  head: Type.Boolean(),
  internal: Type.Boolean(),
  isBankUser: Type.Boolean(),
  userId: Type.String(),
});

export const OrganizationRegistration = Type.Object(
  {
    bankId: Type.String({ minLength: 1, maxLength: 64 }),
    billerId: Type.Optional(Type.String({ maxLength: 64 })),
    companyName: Type.String({ minLength: 1, maxLength: 200, pattern: "\\S" }),
    phone: Type.Union([Type.String({ minLength: 6, maxLength: 20 }), Type.Integer({ minimum: 100000 })], {
      description: "A phone number; without a country code it is read as Indian",
    }),
    gst: Type.String({ pattern: "^[0-9A-Za-z]{15}$", description: "15-character GSTIN" }),
    type: Type.Union([Type.Literal("Biller"), Type.Literal("Agent Institution")]),
    scopes: Type.Array(Type.String({ pattern: "^[a-z][a-z0-9_:.-]{0,63}$" }), {
      minItems: 1,
      maxItems: 50,
      uniqueItems: true,
    }),
    email: Email,
    name: Name,
    password: Password,
  },
  { additionalProperties: false },
);

export const OrganizationRegistered = Type.Object({
  orgId: Type.String(),
  bankId: Type.String(),
  companyName: Type.String(),
  phone: Type.String(),
  gst: Type.String(),
  type: Type.String(),
  status: Type.String(),
  clientKey: Type.String(),
  clientSecret: Type.String({ description: "Shown this once; only its hash is stored" }),
  scopes: Type.String({ description: "Space-separated" }),
  email: Type.String(),
  name: Type.String(),
  roleId: Type.String(),
  role: Type.String(),
  head: Type.Boolean(),
  internal: Type.Boolean(),
  createdAt: Timestamp,
  updatedAt: Timestamp,
  userId: Type.String(),
});

export const LoginBody = Type.Object(
  {
    email: Email,
    password: Password,
    code: Type.Optional(Type.String({ minLength: 1, maxLength: 32, description: "TOTP code or a recovery code" })),
  },
  { additionalProperties: false },
);

export const SessionTokens = Type.Object({
  token: Type.String({ description: "EdDSA JWT access token" }),
  expiredIn: Type.String({ description: "Access-token lifetime, e.g. 15m" }),
  createdAt: Timestamp,
  refreshToken: Type.String(),
});

export const SetupRequired = Type.Object({
  twoFactorSetupRequired: Type.Literal(true),
  setupToken: Type.String({ description: "Accepted only by POST /v1/auth/2fa/setup and /v1/auth/2fa/verify" }),
  expiredIn: Type.String(),
});

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

export const VerifyTokenResult = Type.Object({
  success: Type.Literal(true),
  token: Type.String(),
});

export const RefreshBody = Type.Object(
  { refreshToken: Type.String({ minLength: 20, maxLength: 200 }) },
  { additionalProperties: false },
);

export const ForgotPasswordBody = Type.Object(
  {
    email: Email,
    org_id: Type.Optional(
      Type.Union([Type.String({ maxLength: 64 }), Type.Number()], {
        description: "Accepted for compatibility; the email alone identifies the account",
      }),
    ),
  },
  { additionalProperties: false },
);

export const ResetPasswordBody = Type.Object(
  { token: Type.String({ minLength: 20, maxLength: 200 }), password: Password },
  { additionalProperties: false },
);

export const ChangePasswordBody = Type.Object(
  {
    current_password: Password,
    password: Password,
    confirm_password: Password,
  },
  { additionalProperties: false },
);

export const Message = Type.Object({ message: Type.String() });
