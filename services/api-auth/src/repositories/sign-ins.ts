import { type Db, type PreparedStatement, runPrepared } from "@ipaas/db";

export interface SignInAttempt {
  requestId: string;
  tenantId: string;
  /** The keyed hash of the code presented (see `codeHash`); it matches the stored one when the code is right. */
  codeHash: string;
  /** The organization's userId for the person if this is their first sign-in there. */
  newSubjectId: string;
  now: Date;
}

/** What one try at a sign-in code came to. */
export type SignInOutcome =
  /** No open sign-in challenge of this organization with this id (unknown, used, expired, burned). */
  | { kind: "closed" }
  /** The code was wrong; the try is counted. */
  | { kind: "wrong" }
  /** The code was right and the person is signed in: their userId here, and whether it is new. */
  | { kind: "signed-in"; userId: string; isNewUser: boolean }
  /** The code was right, but the person may not sign in (blocked). */
  | { kind: "refused" }
  /**
   * The code was right (and is used), but another sign-in created the person or their userId at the same
   * moment, so this statement could not see it: what `findOrCreate…` needs to finish the sign-in.
   */
  | { kind: "raced"; contact: { kind: "phone" | "email"; hash: string }; newEndUserId: string; encrypted: string };

interface Row {
  used: boolean;
  channel: string;
  destinationHash: string;
  newEndUserId: string;
  newEndUserEncrypted: string;
  status: string | null;
  userId: string | null;
  isNewUser: boolean;
}

/**
 * One try at a sign-in code ($3) at a challenge ($1) of an organization ($2), and the sign-in it opens:
 * the try is counted and, when the code is right, the challenge used; the person is found by the
 * challenge's destination hash or created with the id and ciphertext the challenge carries; their userId
 * at the organization is found or made ($4). Row locks make concurrent tries of one code wait for each
 * other: exactly one can use it. Prepared, since Postgres takes longer to plan it than to run it.
 */
const SIGN_IN_WITH_CODE: PreparedStatement = {
  name: "sign-in-with-code",
  text: `
  WITH attempt AS (
    UPDATE otp_challenges
       SET attempts = attempts + 1,
           "consumedAt" = CASE WHEN "codeHash" = $3 THEN $5::timestamptz END,
           "codeEncrypted" = CASE WHEN "codeHash" = $3 THEN NULL ELSE "codeEncrypted" END
     WHERE id = $1 AND "tenantId" = $2 AND purpose = 'SIGN_IN'
       AND "consumedAt" IS NULL AND "expiresAt" > $5 AND attempts < "maxAttempts"
       AND "newEndUserId" IS NOT NULL
    RETURNING channel::text AS channel, "destinationHash", "newEndUserId", "newEndUserEncrypted",
              "consumedAt" IS NOT NULL AS used
  ), found AS (
    SELECT u.id, u.status::text AS status FROM end_users u
      JOIN attempt a ON a.used AND a.channel = 'EMAIL' AND u."emailHash" = a."destinationHash"
    UNION ALL
    SELECT u.id, u.status::text AS status FROM end_users u
      JOIN attempt a ON a.used AND a.channel <> 'EMAIL' AND u."phoneHash" = a."destinationHash"
  ), created AS (
    INSERT INTO end_users (id, "emailHash", "emailEncrypted", "phoneHash", "phoneEncrypted", "updatedAt")
    SELECT a."newEndUserId",
           CASE WHEN a.channel = 'EMAIL' THEN a."destinationHash" END,
           CASE WHEN a.channel = 'EMAIL' THEN a."newEndUserEncrypted" END,
           CASE WHEN a.channel <> 'EMAIL' THEN a."destinationHash" END,
           CASE WHEN a.channel <> 'EMAIL' THEN a."newEndUserEncrypted" END,
           $5
      FROM attempt a
     WHERE a.used AND NOT EXISTS (SELECT 1 FROM found)
    ON CONFLICT DO NOTHING
    RETURNING id, status::text AS status
  ), person AS (
    SELECT id, status FROM found UNION ALL SELECT id, status FROM created
  ), known AS (
    SELECT s.id FROM pairwise_subjects s JOIN person p ON s."endUserId" = p.id WHERE s."tenantId" = $2
  ), linked AS (
    INSERT INTO pairwise_subjects (id, "endUserId", "tenantId")
    SELECT $4, p.id, $2 FROM person p
     WHERE p.status = 'ACTIVE' AND NOT EXISTS (SELECT 1 FROM known)
    ON CONFLICT DO NOTHING
    RETURNING id
  )
  SELECT a.used, a.channel, a."destinationHash", a."newEndUserId", a."newEndUserEncrypted",
         (SELECT status FROM person LIMIT 1) AS status,
         COALESCE((SELECT id FROM known LIMIT 1), (SELECT id FROM linked LIMIT 1)) AS "userId",
         EXISTS (SELECT 1 FROM linked) AS "isNewUser"
    FROM attempt a`,
};

/** One try at a sign-in code and the sign-in it opens, in one statement (see `SIGN_IN_WITH_CODE`). */
export async function signInWithCode(db: Db, attempt: SignInAttempt): Promise<SignInOutcome> {
  const { requestId, tenantId, codeHash, newSubjectId, now } = attempt;
  const rows = await runPrepared<Row>(db, SIGN_IN_WITH_CODE, [requestId, tenantId, codeHash, newSubjectId, now]);
  const row = rows[0];
  if (!row) return { kind: "closed" };
  if (!row.used) return { kind: "wrong" };
  if (row.status !== null && row.status !== "ACTIVE") return { kind: "refused" };
  if (row.status === null || row.userId === null) {
    return {
      kind: "raced",
      contact: { kind: row.channel === "EMAIL" ? "email" : "phone", hash: row.destinationHash },
      newEndUserId: row.newEndUserId,
      encrypted: row.newEndUserEncrypted,
    };
  }
  return { kind: "signed-in", userId: row.userId, isNewUser: row.isNewUser };
}
