import Type from "typebox";
import { MAX_PASSWORD_LENGTH } from "../features/passwords/policy";

export { problems } from "@ipaas/service-kit";

// Lengths are bounds against abuse; the real rules (password policy, email shape) run in the domain.
export const Email = Type.String({ format: "email", maxLength: 254, description: "Case is ignored" });

export const Password = Type.String({ minLength: 1, maxLength: MAX_PASSWORD_LENGTH });

export const Name = Type.String({ minLength: 1, maxLength: 120, pattern: "\\S" });

/** A bank's address: a few named lines. A record's key schema is not checked by JSON Schema, so the key bound is `propertyNames`. */
export const Address = Type.Record(Type.String(), Type.String({ maxLength: 300 }), {
  maxProperties: 12,
  propertyNames: { minLength: 1, maxLength: 40 },
  description: "Where the bank is: line1, line2, city, state, postalCode, country… (keys of at most 40 characters)",
});

export const BankName = Type.String({ minLength: 1, maxLength: 200, pattern: "\\S" });

export const Timestamp = Type.String({ format: "date-time" });

export const Message = Type.Object({ message: Type.String() });

export const Id = Type.String({ minLength: 1, maxLength: 64 });

export const TenantQuery = Type.Object({ tenant_id: Type.Optional(Id) }, { additionalProperties: false });

export const IdParams = Type.Object({ id: Id }, { additionalProperties: false });

export const IdsQuery = Type.Object(
  { id: Type.Array(Id, { minItems: 1, maxItems: 100 }), tenant_id: Type.Optional(Id) },
  { additionalProperties: false },
);

/** RFC 6749 §3.3 allows more, but a scope name stays readable in a space-separated list and a URL. */
export const ScopeName = Type.String({ pattern: "^[a-z][a-z0-9_:.-]{0,63}$" });

export const OrganizationParams = Type.Object({ orgId: Id }, { additionalProperties: false });
