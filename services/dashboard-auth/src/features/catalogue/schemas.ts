import Type from "typebox";
import { Timestamp } from "../../shared/schemas";

export const CreateRole = Type.Object(
  { role: Type.String({ minLength: 1, maxLength: 60, pattern: "\\S" }) },
  { additionalProperties: false },
);

export const RoleView = Type.Object({
  id: Type.String(),
  role: Type.String(),
  system: Type.Boolean(),
  created_at: Timestamp,
  updated_at: Timestamp,
});

export const RoleCreated = Type.Object({
  message: Type.String(),
  id: Type.String(),
  role: Type.String(),
  created_at: Timestamp,
  updated_at: Timestamp,
});

export const ModuleBody = Type.Object(
  { module: Type.String({ minLength: 1, maxLength: 60, pattern: "[A-Za-z0-9]" }) },
  { additionalProperties: false },
);

export const ModuleView = Type.Object({
  id: Type.String(),
  module: Type.String(),
  slug: Type.String(),
  created_at: Timestamp,
  updated_at: Timestamp,
});

export const ModuleCreated = Type.Object({
  message: Type.String(),
  id: Type.String(),
  module: Type.String(),
  slug: Type.String(),
  created_at: Timestamp,
  updated_at: Timestamp,
});
