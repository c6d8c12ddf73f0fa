import type { ErrorCatalogue } from "@ipaas/service-kit";

/** Signing in and registering. */
export const SIGN_IN_ERRORS = {
  INVALID_CREDENTIALS: { status: 401, title: "The email or password is wrong" },
  REGISTRATION_CLOSED: { status: 403, title: "Banks are onboarded by the platform owner; self-registration is closed" },
} as const satisfies ErrorCatalogue;
