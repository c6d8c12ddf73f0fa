import type { ErrorCatalogue } from "@ipaas/service-kit";

/** Access and refresh tokens. */
export const SESSION_ERRORS = {
  INVALID_TOKEN: { status: 401, title: "The token is missing, invalid, expired or revoked" },
  INVALID_REFRESH_TOKEN: { status: 401, title: "The refresh token is invalid, expired or was already used" },
} as const satisfies ErrorCatalogue;
