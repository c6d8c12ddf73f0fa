import Type from "typebox";
import { Address, BankName, Email, Id, Name, ScopeName, Timestamp } from "../../shared/schemas";

export const BankListQuery = Type.Object(
  { status: Type.Optional(Type.Union([Type.Literal("Pending"), Type.Literal("Active"), Type.Literal("Suspended")])) },
  { additionalProperties: false },
);

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
