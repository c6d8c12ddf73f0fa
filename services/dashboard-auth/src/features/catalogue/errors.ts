import type { ErrorCatalogue } from "@ipaas/service-kit";

/** Roles and modules. */
export const CATALOGUE_ERRORS = {
  SYSTEM_ROLE: { status: 409, title: "System roles cannot be deleted" },
  ROLE_IN_USE: { status: 409, title: "The role is assigned to users" },
  ROLE_TAKEN: { status: 409, title: "A role with this name exists" },
  SYSTEM_MODULE: { status: 409, title: "The platform's own modules cannot be deleted" },
  MODULE_TAKEN: { status: 409, title: "A module with this name exists" },
} as const satisfies ErrorCatalogue;
