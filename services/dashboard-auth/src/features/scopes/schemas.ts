import Type from "typebox";
import { ScopeName, Timestamp } from "../../shared/schemas";

export const ScopeParams = Type.Object({ name: ScopeName }, { additionalProperties: false });

export const CreateScope = Type.Object(
  { name: ScopeName, description: Type.String({ minLength: 1, maxLength: 300, pattern: "\\S" }) },
  { additionalProperties: false },
);

export const UpdateScope = Type.Object(
  { description: Type.String({ minLength: 1, maxLength: 300, pattern: "\\S" }) },
  { additionalProperties: false },
);

export const ScopeView = Type.Object({
  name: Type.String(),
  description: Type.String(),
  created_at: Timestamp,
  updated_at: Timestamp,
});
