import { OtpBoundsSchema } from "@ipaas/domain";
import Type from "typebox";
import { Address, BankName, Email, Id, Name, ScopeName, Timestamp } from "../../shared/schemas";

export const BankListQuery = Type.Object(
  { status: Type.Optional(Type.Union([Type.Literal("Pending"), Type.Literal("Active"), Type.Literal("Suspended")])) },
  { additionalProperties: false },
);

/** A bank's bounds on its organizations' one-time-code settings, or null for the platform's limits. */
const OrganizationOtp = Type.Union([OtpBoundsSchema, Type.Null()], {
  description:
    "The bounds of this bank's organizations' one-time-code settings: the channels and countries they may " +
    "allow, the most their dailyBudget and userTokenTtlSeconds may be, and whether they must bind user tokens " +
    "to devices; null for the platform's limits",
});

export const BankParams = Type.Object({ bankId: Id }, { additionalProperties: false });

export const CreateBank = Type.Object(
  { bankName: BankName, branch: BankName, address: Address, name: Name, email: Email },
  { additionalProperties: false },
);

export const BankSettings = Type.Object(
  {
    organizationScopes: Type.Optional(
      Type.Union([Type.Array(ScopeName, { maxItems: 200, uniqueItems: true }), Type.Null()], {
        description: "The catalogue scopes this bank's organizations may hold; null for the whole catalogue",
      }),
    ),
    organizationSelfRegistration: Type.Optional(
      Type.Boolean({ description: "Organizations registering under this bank start Active instead of Pending" }),
    ),
    organizationOtp: Type.Optional(OrganizationOtp),
  },
  { additionalProperties: false, minProperties: 1 },
);

export const BankView = Type.Object({
  bankId: Type.String(),
  bankName: Type.String(),
  branch: Type.String(),
  address: Type.Record(Type.String(), Type.String()),
  status: Type.String(),
  organizationScopes: Type.Union([Type.Array(Type.String()), Type.Null()]),
  organizationSelfRegistration: Type.Boolean(),
  organizationOtp: OrganizationOtp,
  createdAt: Timestamp,
  updatedAt: Timestamp,
});

export const BankCreated = Type.Object({
  ...BankView.properties,
  userId: Type.String(),
  email: Type.String(),
  name: Type.String(),
  message: Type.String(),
});
