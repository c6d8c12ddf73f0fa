import type { Db } from "@ipaas/db";
import { issuedBefore, type MasterKey } from "@ipaas/service-kit";
import { fail } from "../../errors";
import { findProfile, forgetSubject, updateName } from "../../repositories/end-users";
import type { Revocations } from "../revocations";

/** A person signed in on their device with a user token: whose token, at which organization. */
export interface UserCaller {
  userId: string;
  /** The person behind the organization's userId. */
  endUserId: string;
  organizationId: string;
  jti: string;
  issuedAt: Date;
  expiresAt: Date;
}

export interface Profile {
  userId: string;
  name: string | null;
  phone: string | null;
  email: string | null;
  createdAt: string;
}

/**
 * The person's own profile, read and edited from their device with their user token. The profile is the
 * person's, shared by every organization they use; each organization knows them by its own userId.
 */
export class Profiles {
  constructor(
    private readonly db: Db,
    private readonly masterKey: MasterKey,
    private readonly revocations: Revocations,
  ) {}

  /** The caller of a verified user token (see `activeUser`); refused with INVALID_TOKEN otherwise. */
  async callerOf(claims: Record<string, unknown>): Promise<UserCaller> {
    const caller = await activeUser(this.db, this.revocations, claims);
    if (!caller) throw fail("INVALID_TOKEN", "the user token is not active");
    return caller;
  }

  async get(caller: UserCaller): Promise<Profile> {
    const profile = await findProfile(this.db, caller.userId, caller.organizationId);
    if (!profile) throw fail("INVALID_TOKEN", "the user token is not active");
    const { endUser } = profile;
    const open = (value: string | null, purpose: string) =>
      value === null ? null : this.masterKey.decrypt(value, `${purpose}:${endUser.id}`);
    return {
      userId: profile.id,
      name: open(endUser.nameEncrypted, "end-user-name"),
      phone: open(endUser.phoneEncrypted, "end-user-phone"),
      email: open(endUser.emailEncrypted, "end-user-email"),
      createdAt: profile.createdAt.toISOString(),
    };
  }

  async rename(caller: UserCaller, name: string): Promise<Profile> {
    const profile = await findProfile(this.db, caller.userId, caller.organizationId);
    if (!profile) throw fail("INVALID_TOKEN", "the user token is not active");
    const endUserId = profile.endUser.id;
    await updateName(this.db, endUserId, this.masterKey.encrypt(name.trim(), `end-user-name:${endUserId}`));
    return this.get(caller);
  }

  /** Ends this token: it is refused from now on, and token-status says it is inactive. */
  async signOut(caller: UserCaller): Promise<void> {
    await this.revocations.revoke({
      jti: caller.jti,
      organizationId: caller.organizationId,
      subject: caller.userId,
      expiresAt: caller.expiresAt,
    });
  }

  /** The person leaves this organization: its userId goes, and the person when no organization knows them. */
  async erase(caller: UserCaller): Promise<void> {
    await this.db.$transaction((tx) => forgetSubject(tx, caller.userId, caller.organizationId));
  }
}

/**
 * Who a verified user token names, while it is in force: the person is still the organization's user and
 * active, and the token was neither signed out nor issued before the person's `tokensNotBefore`; else null.
 * The one rule for the profile API and for token-status.
 */
export async function activeUser(
  db: Db,
  revocations: Pick<Revocations, "isRevoked">,
  claims: Record<string, unknown>,
): Promise<UserCaller | null> {
  const { sub, org, iat, exp, jti } = claims;
  if (
    typeof sub !== "string" ||
    typeof org !== "string" ||
    typeof iat !== "number" ||
    typeof exp !== "number" ||
    typeof jti !== "string"
  ) {
    return null;
  }
  const profile = await findProfile(db, sub, org);
  if (profile?.endUser.status !== "ACTIVE" || issuedBefore(iat, profile.endUser.tokensNotBefore)) return null;
  if (await revocations.isRevoked(jti)) return null;
  return {
    userId: sub,
    endUserId: profile.endUser.id,
    organizationId: org,
    jti,
    issuedAt: new Date(iat * 1000),
    expiresAt: new Date(exp * 1000),
  };
}
