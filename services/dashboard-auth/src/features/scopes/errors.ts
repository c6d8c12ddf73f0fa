import type { ErrorCatalogue } from "@ipaas/service-kit";

/** The scope catalogue and who may hold which scope. */
export const SCOPE_ERRORS = {
  SCOPES_NOT_ALLOWED: { status: 400, title: "Some scopes are not allowed here" },
  SCOPE_TAKEN: { status: 409, title: "A scope with this name exists" },
} as const satisfies ErrorCatalogue;
