import type { ErrorCatalogue } from "@ipaas/service-kit";

/** Approving banks and organizations. */
export const ONBOARDING_ERRORS = {
  NOT_PENDING: { status: 409, title: "This tenant is not waiting for approval" },
} as const satisfies ErrorCatalogue;
