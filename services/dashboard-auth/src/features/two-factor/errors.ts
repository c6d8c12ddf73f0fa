import type { ErrorCatalogue } from "@ipaas/service-kit";

/** The second factor: set-up and codes. */
export const TWO_FACTOR_ERRORS = {
  TWO_FACTOR_REQUIRED: { status: 401, title: "A two-factor code is required" },
  INVALID_TWO_FACTOR_CODE: { status: 401, title: "The two-factor code is wrong or was already used" },
  TWO_FACTOR_LOCKED: {
    status: 403,
    title: "The authenticator is disabled after too many wrong codes; an administrator must reset it",
  },
  TWO_FACTOR_ALREADY_ENABLED: { status: 409, title: "Two-factor authentication is already enabled" },
  TWO_FACTOR_NOT_STARTED: { status: 409, title: "Start two-factor set-up first" },
} as const satisfies ErrorCatalogue;
