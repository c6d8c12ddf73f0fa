import Type from "typebox";
import { Id, Timestamp } from "../../shared/schemas";
import { MAX_PASSWORD_LENGTH } from "../passwords/policy";

const Permission = Type.Object(
  {
    slug: Type.String({ minLength: 1, maxLength: 64 }),
    allow_read: Type.Boolean(),
    allow_create: Type.Boolean(),
    allow_update: Type.Boolean(),
    allow_delete: Type.Boolean(),
  },
  { additionalProperties: false },
);

export const Page = Type.Object(
  {
    offset: Type.Integer({ minimum: 0, default: 0 }),
    limit: Type.Integer({ minimum: 1, maximum: 100, default: 20 }),
    tenant_id: Type.Optional(Id),
  },
  { additionalProperties: false },
);

export const CreateUser = Type.Object(
  {
    email: Type.String({ format: "email", maxLength: 254 }),
    name: Type.String({ minLength: 1, maxLength: 120, pattern: "\\S" }),
    role_id: Id,
    permissions: Type.Array(Permission, { maxItems: 200 }),
    password: Type.String({ minLength: 1, maxLength: MAX_PASSWORD_LENGTH }),
  },
  { additionalProperties: false },
);

export const UserCreated = Type.Object({
  org_id: Type.String(),
  email: Type.String(),
  name: Type.String(),
  status: Type.String(),
  user_id: Type.String(),
  role_id: Type.String(),
  role: Type.String(),
  created_at: Timestamp,
  updated_at: Timestamp,
});

const PermissionList = Type.Array(Permission);

export const UserListItem = Type.Object({
  name: Type.String(),
  email: Type.String(),
  user_id: Type.String(),
  org_id: Type.String(),
  status: Type.String(),
  role: Type.String(),
  role_id: Type.String(),
  created_at: Timestamp,
  updated_at: Timestamp,
  permissions: PermissionList,
});

export const UserDetail = Type.Object({
  user_id: Type.String(),
  org_id: Type.String(),
  email: Type.String(),
  name: Type.String(),
  status: Type.String(),
  role_id: Type.String(),
  role: Type.String(),
  created_at: Timestamp,
  updated_at: Timestamp,
  permission: PermissionList,
  permissions: PermissionList,
});

export const UserIdParams = Type.Object({ user_id: Id }, { additionalProperties: false });

export const UpdateSelf = Type.Object(
  { name: Type.String({ minLength: 1, maxLength: 120, pattern: "\\S" }) },
  { additionalProperties: false },
);

export const UpdateUser = Type.Object(
  {
    role_id: Type.Optional(Id),
    permissions: Type.Optional(Type.Array(Permission, { maxItems: 200 })),
    status: Type.Optional(Type.Union([Type.Literal("Active"), Type.Literal("Disabled")])),
  },
  { additionalProperties: false, minProperties: 1 },
);

export const DeleteUsersQuery = Type.Object(
  { user_id: Type.Array(Id, { minItems: 1, maxItems: 100 }) },
  { additionalProperties: false },
);
