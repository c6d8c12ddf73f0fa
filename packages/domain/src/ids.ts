import { idMaker } from "@ipaas/service-kit";

/** The prefixes of the platform's records: one per kind, so an id says what it names (`usr_…`, `org_…`). */
export type IdPrefix =
  | "main"
  | "bnk"
  | "org"
  | "usr"
  | "rol"
  | "scp"
  | "mod"
  | "perm"
  | "cred"
  | "ses"
  | "rft"
  | "totp"
  | "rcv"
  | "pwr"
  | "aud"
  | "evt"
  | "eu"
  | "sub"
  | "otp";

/** An opaque, prefixed, time-ordered id for a record of the platform (80 random bits; never sequential). */
export const newId = idMaker<IdPrefix>();
