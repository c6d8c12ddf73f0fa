import { defineErrorCodes } from "@ipaas/service-kit";

/**
 * api-auth's error codes for its JSON routes (the OAuth endpoints answer in RFC 6749's own form instead):
 * the shared ones and these.
 */
export const {
  catalogue: errorCatalogue,
  fail,
  invalidField,
} = defineErrorCodes({
  INVALID_TOKEN: { status: 401, title: "The token is missing, invalid, expired or revoked" },
  INSUFFICIENT_SCOPE: { status: 403, title: "The token does not grant the scope this route needs" },
  INVALID_DESTINATION: { status: 400, title: "The phone number or email address is not valid" },
  CHANNEL_NOT_ALLOWED: { status: 403, title: "The organization has not enabled this channel" },
  COUNTRY_NOT_ALLOWED: { status: 403, title: "The organization has not enabled this country" },
  INVALID_CODE: { status: 400, title: "The code is wrong, expired or already used" },
  INVALID_DEVICE_KEY: { status: 400, title: "The device key is not a usable public key" },
  DEVICE_KEY_REQUIRED: { status: 400, title: "The organization binds tokens to devices: send the device's key" },
  INVALID_DPOP_PROOF: { status: 401, title: "The DPoP proof is missing, invalid or used before" },
  RECENT_SIGN_IN_REQUIRED: { status: 401, title: "This needs a sign-in from the last ten minutes" },
});
