import type { Db } from "@ipaas/db";
import { issuedBefore, type MasterKey } from "@ipaas/service-kit";
import { fail } from "../../errors";
import { findProfile, forgetSubject, updateName } from "../../repositories/end-users";
import { isRevoked, recordRevocation } from "../../repositories/revoked-tokens";

/** A person signed in on their device with a user token: whose token, at which organization. */
export interface UserCaller {
  userId: string;
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
  ) {}

  /**
   * The caller of a verified user token: refused unless the person is still this organization's user,
   * active, and the token was neither signed out nor issued before the person's `tokensNotBefore`.
   */
  async callerOf(claims: Record<string, unknown>): Promise<UserCaller> {
    const { sub, org, iat, exp, jti } = claims;
    if (
      typeof sub !== "string" ||
      typeof org !== "string" ||
      typeof iat !== "number" ||
      typeof exp !== "number" ||
      typeof jti !== "string"
    ) {
      throw fail("INVALID_TOKEN", "not a user token");
    }
    const profile = await findProfile(this.db, sub, org);
    if (profile?.endUser.status !== "ACTIVE" || issuedBefore(iat, profile.endUser.tokensNotBefore)) {
      throw fail("INVALID_TOKEN", "the user token is not active");
    }
    if (await isRevoked(this.db, jti)) throw fail("INVALID_TOKEN", "signed out");
    return { userId: sub, organizationId: org, jti, issuedAt: new Date(iat * 1000), expiresAt: new Date(exp * 1000) };
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
    await recordRevocation(this.db, { jti: caller.jti, subject: caller.userId, expiresAt: caller.expiresAt });
  }

  /** The person leaves this organization: its userId goes, and the person when no organization knows them. */
  async erase(caller: UserCaller): Promise<void> {
    await this.db.$transaction((tx) => forgetSubject(tx, caller.userId, caller.organizationId));
  }
}
