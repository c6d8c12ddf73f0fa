import { ChannelListSchema, ChannelSchema, CountryListSchema, OtpSettingsSchema } from "@ipaas/domain";
import Type from "typebox";
import { Id, Timestamp } from "../../shared/schemas";

export const OrganizationQuery = Type.Object({ org_id: Type.Optional(Id) }, { additionalProperties: false });

/**
 * The one-time-code settings in force: the channels enabled and the rest of the settings. A bank's narrowing
 * may leave no channel or no country.
 */
const OtpView = Type.Object({ channels: Type.Array(ChannelSchema), ...OtpSettingsSchema.properties });

/** What an organization changes of its one-time-code settings (within its bank's bounds); the rest stays. */
const OtpChange = Type.Partial(
  Type.Object({ channels: ChannelListSchema, ...OtpSettingsSchema.properties, allowedCountries: CountryListSchema }),
  { additionalProperties: false, minProperties: 1 },
);

export const OrganizationView = Type.Object({
  org_id: Type.String(),
  bank_id: Type.String(),
  company_name: Type.String(),
  phone: Type.String(),
  gst: Type.String(),
  type: Type.String(),
  status: Type.String(),
  address: Type.Null(),
  client_key: Type.String(),
  scopes: Type.String({ description: "Space-separated" }),
  otp: OtpView,
  tokenSigningAlg: Type.String({ description: "EdDSA, RS256 or ES256: how api-auth signs this organization's tokens" }),
  created_at: Timestamp,
  updated_at: Timestamp,
});

export const UpdateOrganization = Type.Object(
  {
    company_name: Type.Optional(Type.String({ minLength: 1, maxLength: 200, pattern: "\\S" })),
    scopes: Type.Optional(
      Type.Array(Type.String({ pattern: "^[a-z][a-z0-9_:.-]{0,63}$" }), {
        minItems: 1,
        maxItems: 50,
        uniqueItems: true,
      }),
    ),
    phone: Type.Optional(Type.Union([Type.String({ minLength: 6, maxLength: 20 }), Type.Integer({ minimum: 100000 })])),
    status: Type.Optional(Type.Union([Type.Literal("Active"), Type.Literal("Suspended")])),
    otp: Type.Optional(OtpChange),
    tokenSigningAlg: Type.Optional(
      Type.Union([Type.Literal("EdDSA"), Type.Literal("RS256"), Type.Literal("ES256")], {
        description:
          "How api-auth signs this organization's partner and end-user tokens: EdDSA (the default), or RS256 / " +
          "ES256 for partners whose JWT libraries lack EdDSA",
      }),
    ),
  },
  { additionalProperties: false, minProperties: 1 },
);

export const RotateCredential = Type.Object(
  {
    graceSeconds: Type.Optional(
      Type.Integer({ minimum: 0, description: "How long the previous secret keeps working (default 0)" }),
    ),
    revokeTokens: Type.Optional(
      Type.Boolean({ description: "Make every token issued before now inactive at once (a leaked secret)" }),
    ),
  },
  { additionalProperties: false },
);

export const CredentialRotated = Type.Object({
  message: Type.String(),
  clientKey: Type.String(),
  clientSecret: Type.String({ description: "Shown this once; only its hash is stored" }),
  apiKey: Type.String({
    description:
      "The client key and secret in one string for the SDK (ipaas_sk_<client key, 32 hex digits>_<secret>); shown this once",
  }),
  credentialVersion: Type.Integer(),
});
