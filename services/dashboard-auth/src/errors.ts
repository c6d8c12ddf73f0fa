import { defineErrorCodes } from "@ipaas/service-kit";
import { ONBOARDING_ERRORS } from "./features/banks/errors";
import { CATALOGUE_ERRORS } from "./features/catalogue/errors";
import { ORGANIZATION_ERRORS } from "./features/organizations/errors";
import { PASSWORD_ERRORS } from "./features/passwords/errors";
import { SCOPE_ERRORS } from "./features/scopes/errors";
import { SESSION_ERRORS } from "./features/sessions/errors";
import { SIGN_IN_ERRORS } from "./features/sign-in/errors";
import { TWO_FACTOR_ERRORS } from "./features/two-factor/errors";
import { USER_ERRORS } from "./features/users/errors";

/** dashboard-auth's closed list of error codes: the shared ones and each feature's own. */
export const {
  catalogue: errorCatalogue,
  fail,
  invalidField,
} = defineErrorCodes({
  ...SIGN_IN_ERRORS,
  ...TWO_FACTOR_ERRORS,
  ...SESSION_ERRORS,
  ...PASSWORD_ERRORS,
  ...USER_ERRORS,
  ...CATALOGUE_ERRORS,
  ...SCOPE_ERRORS,
  ...ONBOARDING_ERRORS,
  ...ORGANIZATION_ERRORS,
});

/** The address already has an account (answered to signed-in administrators only: registration hides it). */
export function emailTaken() {
  return invalidField("email", "an account with this email exists", "EMAIL_TAKEN");
}
