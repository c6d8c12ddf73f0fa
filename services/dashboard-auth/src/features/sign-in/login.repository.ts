import { type Db, type PreparedStatement, runPrepared, type TenantKind, type UserStatus } from "@ipaas/db";
import type { PermissionView } from "../sessions/claims";

/** Everything a login reads of the account an e-mail names, in the one statement it makes before argon2. */
export interface SignInAccount {
  id: string;
  tenantId: string;
  email: string;
  name: string;
  passwordHash: string;
  roleId: string;
  roleName: string;
  status: UserStatus;
  internal: boolean;
  head: boolean;
  tokensNotBefore: Date | null;
  deletedAt: Date | null;
  tenantKind: TenantKind;
  tenantStatus: string;
  tenantDeletedAt: Date | null;
  bankId: string | null;
  /** The authenticator, or null before set-up started. */
  totp: {
    userId: string;
    secretEncrypted: string;
    confirmedAt: Date | null;
    disabledAt: Date | null;
    failedAttempts: number;
  } | null;
  /** The user completed a sign-in from the asking address since the given instant. */
  familiar: boolean;
  /** The permissions an access token would carry: every live module for the tenant's first user. */
  permissions: PermissionView[];
}

const SIGN_IN_ACCOUNT: PreparedStatement = {
  name: "sign-in-account",
  text: `SELECT u.id, u."tenantId", u.email, u.name, u."passwordHash", u."roleId", r.name AS "roleName",
                u.status::text AS status, u.internal, u.head, u."tokensNotBefore", u."deletedAt",
                t.kind::text AS "tenantKind", t.status::text AS "tenantStatus",
                t."deletedAt" AS "tenantDeletedAt", t."bankId",
                e."secretEncrypted", e."confirmedAt", e."disabledAt", e."failedAttempts",
                EXISTS (SELECT 1 FROM sessions s
                         WHERE s."userId" = u.id AND s.ip = $2 AND s."createdAt" >= $3) AS familiar,
                COALESCE(CASE WHEN u.head THEN
                  (SELECT json_agg(json_build_object('slug', m.slug, 'allow_read', true, 'allow_create', true,
                                                     'allow_update', true, 'allow_delete', true) ORDER BY m.slug)
                     FROM modules m WHERE m."deletedAt" IS NULL)
                ELSE
                  (SELECT json_agg(json_build_object('slug', m.slug, 'allow_read', p."allowRead",
                                                     'allow_create', p."allowCreate", 'allow_update', p."allowUpdate",
                                                     'allow_delete', p."allowDelete") ORDER BY m.slug)
                     FROM user_permissions p JOIN modules m ON m.id = p."moduleId"
                    WHERE p."userId" = u.id AND m."deletedAt" IS NULL)
                END, '[]'::json) AS permissions
           FROM users u
           JOIN tenants t ON t.id = u."tenantId"
           JOIN roles r ON r.id = u."roleId"
           LEFT JOIN totp_enrolments e ON e."userId" = u.id
          WHERE u.email = $1`,
};

type AccountRow = Omit<SignInAccount, "totp"> & {
  secretEncrypted: string | null;
  confirmedAt: Date | null;
  disabledAt: Date | null;
  failedAttempts: number | null;
};

/**
 * The account `email` signs in to, with its tenant, role, authenticator, claims and whether `ip` is one it
 * signed in from since `since`; null when there is none. One prepared statement whether or not the account
 * exists, so the two cost the same.
 */
export async function findSignInAccount(db: Db, email: string, ip: string, since: Date): Promise<SignInAccount | null> {
  const [row] = await runPrepared<AccountRow>(db, SIGN_IN_ACCOUNT, [email, ip, since]);
  if (!row) return null;
  const { secretEncrypted, confirmedAt, disabledAt, failedAttempts, ...account } = row;
  return {
    ...account,
    totp:
      secretEncrypted === null
        ? null
        : { userId: row.id, secretEncrypted, confirmedAt, disabledAt, failedAttempts: failedAttempts ?? 0 },
  };
}
