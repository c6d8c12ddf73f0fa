import type { ErrorCatalogue } from "@ipaas/service-kit";

/** An organization's settings. */
export const ORGANIZATION_ERRORS = {
  OTP_SETTINGS_NOT_ALLOWED: { status: 400, title: "A one-time-code setting is beyond what the bank allows" },
} as const satisfies ErrorCatalogue;
