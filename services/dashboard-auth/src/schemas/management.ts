import Type from "typebox";
import { MAX_PASSWORD_LENGTH } from "../domain/password-policy";

const Timestamp = Type.String({ format: "date-time" });
const Id = Type.String({ minLength: 1, maxLength: 64 });

export const Permission = Type.Object(
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

export const TenantQuery = Type.Object({ tenant_id: Type.Optional(Id) }, { additionalProperties: false });

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

export const IdParams = Type.Object({ id: Id }, { additionalProperties: false });
export const IdsQuery = Type.Object(
  { id: Type.Array(Id, { minItems: 1, maxItems: 100 }), tenant_id: Type.Optional(Id) },
  { additionalProperties: false },
);

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

export const OrganizationQuery = Type.Object({ org_id: Type.Optional(Id) }, { additionalProperties: false });

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
  },
  { additionalProperties: false, minProperties: 1 },
);

export const AuditQuery = Type.Object(
  {
    offset: Type.Integer({ minimum: 0, default: 0 }),
    limit: Type.Integer({ minimum: 1, maximum: 200, default: 50 }),
    actor: Type.Optional(Id),
    action: Type.Optional(Type.String({ maxLength: 100 })),
    from: Type.Optional(Type.String({ format: "date-time" })),
    to: Type.Optional(Type.String({ format: "date-time" })),
    tenant_id: Type.Optional(Id),
  },
  { additionalProperties: false },
);

export const AuditView = Type.Object({
  id: Type.String(),
  tenant_id: Type.Union([Type.String(), Type.Null()]),
  actor_id: Type.Union([Type.String(), Type.Null()]),
  actor_type: Type.String(),
  action: Type.String(),
  outcome: Type.String(),
  target_type: Type.Union([Type.String(), Type.Null()]),
  target_id: Type.Union([Type.String(), Type.Null()]),
  ip: Type.Union([Type.String(), Type.Null()]),
  user_agent: Type.Union([Type.String(), Type.Null()]),
  details: Type.Unknown(),
  created_at: Timestamp,
});

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
  credentialVersion: Type.Integer(),
});
