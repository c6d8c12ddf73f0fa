// What a request changed, told without listing rows: one digest of each table's rows, read in one statement.
import type { Db } from "@ipaas/db";

/** Every table of both services a request could write to, all but the audit log and throttle counters. */
export const DOMAIN_TABLES = [
  "tenants",
  "organization_credentials",
  "users",
  "roles",
  "modules",
  "user_permissions",
  "sessions",
  "refresh_tokens",
  "totp_enrolments",
  "recovery_codes",
  "password_reset_tokens",
  "scopes",
  "revoked_tokens",
  "end_users",
  "pairwise_subjects",
  "otp_challenges",
  "used_proofs",
  "outbox_events",
] as const;

/**
 * Each of `tables` as `<row count>:<md5 of its rows>`, leaving out `ignored` columns (what changes whatever
 * a request asked, like a session's last use). Two equal fingerprints mean no row was added, removed or
 * changed in those tables.
 */
export async function tableFingerprint(
  db: Db,
  tables: readonly string[],
  ignored: readonly string[] = [],
): Promise<Record<string, string>> {
  const row = ignored.reduce((text, column) => `${text} - '${column}'`, "to_jsonb(t)");
  const rows = await db.$queryRawUnsafe<Array<{ name: string; print: string }>>(
    tables
      .map(
        (table) =>
          `SELECT '${table}' AS name,
                  count(*) || ':' || coalesce(md5(string_agg((${row})::text, ',' ORDER BY (${row})::text)), '') AS print
             FROM "${table}" t`,
      )
      .join(" UNION ALL "),
  );
  return Object.fromEntries(rows.map((r) => [r.name, r.print]));
}
