import { defineErrorCodes } from "@ipaas/service-kit";

/** dashboard-auth's closed list of error codes (on top of the shared ones). */
export const {
  catalogue: errorCatalogue,
  fail,
  invalidField,
} = defineErrorCodes({
  INVALID_CREDENTIALS: { status: 401, title: "The email or password is wrong" },
  TWO_FACTOR_REQUIRED: { status: 401, title: "A two-factor code is required" },
  INVALID_TWO_FACTOR_CODE: { status: 401, title: "The two-factor code is wrong or was already used" },
  TWO_FACTOR_LOCKED: {
    status: 403,
    title: "The authenticator is disabled after too many wrong codes; an administrator must reset it",
  },
  TWO_FACTOR_ALREADY_ENABLED: { status: 409, title: "Two-factor authentication is already enabled" },
  TWO_FACTOR_NOT_STARTED: { status: 409, title: "Start two-factor set-up first" },
  INVALID_TOKEN: { status: 401, title: "The token is missing, invalid, expired or revoked" },
  INVALID_REFRESH_TOKEN: { status: 401, title: "The refresh token is invalid, expired or was already used" },
  INVALID_RESET_TOKEN: { status: 400, title: "The reset link is invalid, expired or was already used" },
  EMAIL_TAKEN: { status: 409, title: "An account with this email exists" },
  WEAK_PASSWORD: { status: 400, title: "The password is too easy to guess" },
  PASSWORD_MISMATCH: { status: 400, title: "The passwords do not match" },
  WRONG_PASSWORD: { status: 403, title: "The current password is wrong" },
  LAST_TOP_ROLE_HOLDER: { status: 409, title: "The tenant's last holder of its top role cannot be removed or demoted" },
  SYSTEM_ROLE: { status: 409, title: "System roles cannot be deleted" },
  ROLE_IN_USE: { status: 409, title: "The role is assigned to users" },
  ROLE_TAKEN: { status: 409, title: "A role with this name exists" },
  SYSTEM_MODULE: { status: 409, title: "The platform's own modules cannot be deleted" },
  MODULE_TAKEN: { status: 409, title: "A module with this name exists" },
  REGISTRATION_CLOSED: { status: 403, title: "Banks are onboarded by the platform owner; self-registration is closed" },
  SCOPES_NOT_ALLOWED: { status: 400, title: "Some scopes are not allowed here" },
  SCOPE_TAKEN: { status: 409, title: "A scope with this name exists" },
  NOT_PENDING: { status: 409, title: "This tenant is not waiting for approval" },
});

/** The address already has an account (answered to signed-in administrators only: registration hides it). */
export function emailTaken() {
  return invalidField("email", "an account with this email exists", "EMAIL_TAKEN");
}
