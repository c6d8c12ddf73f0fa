import type { ErrorCatalogue } from "@ipaas/service-kit";

/** Choosing, changing and resetting a password. */
export const PASSWORD_ERRORS = {
  INVALID_RESET_TOKEN: { status: 400, title: "The reset link is invalid, expired or was already used" },
  WEAK_PASSWORD: { status: 400, title: "The password is too easy to guess" },
  PASSWORD_MISMATCH: { status: 400, title: "The passwords do not match" },
  WRONG_PASSWORD: { status: 403, title: "The current password is wrong" },
} as const satisfies ErrorCatalogue;
