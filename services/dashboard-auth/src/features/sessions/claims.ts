import type { DbOrTx, Prisma, TenantKind, UserStatus } from "@ipaas/db";
import { statusLabel } from "../../shared/tenancy";
import { findClaimsUser, liveModulesBySlug, permissionRowsBySlug, setTokensNotBefore } from "./repository";
import type { AccessChanges } from "./session-view";

export interface PermissionView {
  slug: string;
  allow_read: boolean;
  allow_create: boolean;
  allow_update: boolean;
  allow_delete: boolean;
}

/** The seed's user fields, as carried in the access token and returned by verify-token. Never a secret. */
export interface UserClaims {
  userId: string;
  email: string;
  name: string;
  roleId: string;
  role: string;
  tenantId: string;
  bankId: string | null;
  orgId: string | null;
  isBankUser: boolean;
  internal: boolean;
  head: boolean;
  status: string;
  isDeleted: boolean;
  isTwoFactorEnabled: boolean;
  permissions: PermissionView[];
}

/**
 * A user's permissions: the tenant's first user holds every module with every action; anyone else
 * holds exactly their rows.
 */
async function permissionsOf(db: DbOrTx, user: { id: string; head: boolean }): Promise<PermissionView[]> {
  if (user.head) {
    const modules = await liveModulesBySlug(db);
    return modules.map((m) => ({
      slug: m.slug,
      allow_read: true,
      allow_create: true,
      allow_update: true,
      allow_delete: true,
    }));
  }
  const rows = await permissionRowsBySlug(db, user.id);
  return rows.map((p) => ({
    slug: p.module.slug,
    allow_read: p.allowRead,
    allow_create: p.allowCreate,
    allow_update: p.allowUpdate,
    allow_delete: p.allowDelete,
  }));
}

/**
 * Access tokens carry the claims of the moment they were signed. Every change to what they say (role,
 * permissions, status, name, the module list) calls this in its transaction: tokens signed before it are
 * refused, and the client's refresh brings the current claims. This instance's view of the users concerned
 * goes at once; the other instances' with the change's event.
 */
export async function expireClaims(db: DbOrTx, where: Prisma.UserWhereInput, view: AccessChanges): Promise<void> {
  if (typeof where.id === "string" && Object.keys(where).length === 1) view.dropUser(where.id, { changingHere: true });
  else view.dropAll({ changingHere: true });
  await setTokensNotBefore(db, where, new Date());
}

/** What claims are made of, read by whichever statement suits the caller. */
export interface ClaimsSource {
  id: string;
  email: string;
  name: string;
  roleId: string;
  roleName: string;
  tenantId: string;
  tenantKind: TenantKind;
  bankId: string | null;
  internal: boolean;
  head: boolean;
  status: UserStatus;
  deletedAt: Date | null;
  twoFactorEnabled: boolean;
  permissions: PermissionView[];
}

/** The seed's user fields, from their source. */
export function claimsOf(user: ClaimsSource): UserClaims {
  return {
    userId: user.id,
    email: user.email,
    name: user.name,
    roleId: user.roleId,
    role: user.roleName,
    tenantId: user.tenantId,
    bankId: user.tenantKind === "BANK" ? user.tenantId : user.bankId,
    orgId: user.tenantKind === "ORGANIZATION" ? user.tenantId : null,
    isBankUser: user.tenantKind === "BANK",
    internal: user.internal,
    head: user.head,
    status: statusLabel(user.status),
    isDeleted: user.deletedAt !== null,
    isTwoFactorEnabled: user.twoFactorEnabled,
    permissions: user.permissions,
  };
}

/** A user's current claims, and the instant before which their access tokens are refused. */
export async function claimsFor(db: DbOrTx, userId: string): Promise<{ claims: UserClaims; notBefore: Date | null }> {
  const user = await findClaimsUser(db, userId);
  const { tenant } = user;
  return {
    notBefore: user.tokensNotBefore,
    claims: claimsOf({
      ...user,
      roleName: user.role.name,
      tenantKind: tenant.kind,
      bankId: tenant.bankId,
      twoFactorEnabled: user.totp?.confirmedAt != null && user.totp.disabledAt === null,
      permissions: await permissionsOf(db, user),
    }),
  };
}
