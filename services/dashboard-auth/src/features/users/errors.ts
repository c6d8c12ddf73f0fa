import type { ErrorCatalogue } from "@ipaas/service-kit";

/** Managing a tenant's users. */
export const USER_ERRORS = {
  EMAIL_TAKEN: { status: 409, title: "An account with this email exists" },
  LAST_TOP_ROLE_HOLDER: { status: 409, title: "The tenant's last holder of its top role cannot be removed or demoted" },
} as const satisfies ErrorCatalogue;
