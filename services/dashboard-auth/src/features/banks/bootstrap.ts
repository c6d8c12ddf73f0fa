import type { Db, DbOrTx } from "@ipaas/db";
import { newId, writeAudit } from "@ipaas/domain";
import { randomToken } from "@ipaas/service-kit";
import { createSystemRoles } from "../../shared/tenancy";
import { findMainTenant, insertTenant } from "../../shared/tenants.repository";
import type { Passwords } from "../passwords/passwords";
import { findUserByEmail } from "../passwords/repository";
import { createResetToken } from "../passwords/reset";
import { endUserSessions } from "../sessions/repository";
import type { TwoFactor } from "../two-factor/two-factor";
import { emailInUse, insertUser } from "../users/repository";

const SYSTEM_ORIGIN = { ip: null, userAgent: "dashboard-auth admin cli" };

export class BootstrapError extends Error {}

/**
 * Creates the platform owner: the MAIN tenant and its first user, the Owner (`internal: true`). No
 * password is ever chosen for them: the account gets an unguessable one nobody knows, and the command
 * prints a single-use set-up token (valid 30 minutes) with which the owner sets their own.
 */
export async function bootstrapOwner(
  db: Db,
  passwords: Passwords,
  input: { email: string; name: string },
): Promise<{ userId: string; setupToken: string }> {
  const email = input.email.trim().toLowerCase();
  if (await findMainTenant(db)) {
    throw new BootstrapError("the platform owner exists already; use `admin setup-link` to let them set a password");
  }
  if (await emailInUse(db, email)) throw new BootstrapError(`${email} already has an account`);
  const passwordHash = await passwords.hash(randomToken(32));
  const tenantId = newId("main");
  const userId = await db.$transaction(async (tx) => {
    await insertTenant(tx, { id: tenantId, kind: "MAIN", name: "Platform owner" });
    const role = await createSystemRoles(tx, tenantId, "MAIN");
    const { id: userId } = await insertUser(tx, {
      tenantId,
      roleId: role.id,
      email,
      name: input.name.trim(),
      passwordHash,
      internal: true,
      head: true,
    });
    await auditOperator(tx, "tenant.owner_bootstrapped", { id: userId, tenantId });
    return userId;
  });
  return { userId, setupToken: await createResetToken(db, userId) };
}

/** A fresh set-up (password reset) token for an existing user, from the command line. */
export async function setupLink(db: Db, email: string): Promise<{ userId: string; setupToken: string }> {
  const user = await findUserByEmail(db, email.trim().toLowerCase());
  if (!user || user.deletedAt) throw new BootstrapError(`no account for ${email}`);
  await auditOperator(db, "auth.setup_link_issued", { id: user.id, tenantId: user.tenantId });
  return { userId: user.id, setupToken: await createResetToken(db, user.id) };
}

/**
 * An operator's reset of a user's authenticator (after 100 wrong codes, or a lost device): the user sets
 * it up again at the next login; every session of theirs ends now.
 */
export async function resetTwoFactor(db: Db, twoFactor: TwoFactor, email: string): Promise<void> {
  const user = await findUserByEmail(db, email.trim().toLowerCase());
  if (!user) throw new BootstrapError(`no account for ${email}`);
  await twoFactor.reset(user.id);
  await endUserSessions(db, user.id, "2fa_reset", new Date());
  await auditOperator(db, "auth.2fa_reset", { id: user.id, tenantId: user.tenantId });
}

/** Records what an operator did from the command line to a user. */
function auditOperator(db: DbOrTx, action: string, user: { id: string; tenantId: string }): Promise<void> {
  return writeAudit(
    db,
    { action, outcome: "success", actorType: "system", tenantId: user.tenantId, targetType: "user", targetId: user.id },
    SYSTEM_ORIGIN,
  );
}
