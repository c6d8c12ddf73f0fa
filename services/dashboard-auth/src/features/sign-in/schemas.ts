import Type from "typebox";
import { Address, BankName, Email, Name, Password, Timestamp } from "../../shared/schemas";

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
  apiKey: Type.String({
    description:
      "The client key and secret in one string for the SDK (ipaas_sk_<client key, 32 hex digits>_<secret>); shown this once",
  }),
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

export const SetupRequired = Type.Object({
  twoFactorSetupRequired: Type.Literal(true),
  setupToken: Type.String({ description: "Accepted only by POST /v1/auth/2fa/setup and /v1/auth/2fa/verify" }),
  expiredIn: Type.String(),
});
