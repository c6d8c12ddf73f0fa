import type { Db, DbOrTx } from "@ipaas/db";
import {
  ACTIONS,
  type Action,
  type Actor,
  assertReaches,
  canGrant,
  type Grants,
  isPlatformOwner,
  type TenantRef,
} from "../../access/access";
import { emailTaken, fail, invalidField } from "../../errors";
import { statusLabel } from "../../shared/tenancy";
import { auditChange, tenantRef } from "../audit/audit";
import type { Passwords } from "../passwords/passwords";
import { expireClaims } from "../sessions/claims";
import type { Origin, Sessions } from "../sessions/sessions";
import {
  countOtherHolders,
  emailInUse,
  findLiveUser,
  findTenantRole,
  findUser,
  insertUser,
  listTenantUsers,
  liveModules,
  type PermissionRow,
  replacePermissions,
  type UserRow,
  updateUser,
} from "./repository";

export interface PermissionInput {
  slug: string;
  allow_read: boolean;
  allow_create: boolean;
  allow_update: boolean;
  allow_delete: boolean;
}

/** A user's permissions as the seed lists them; the tenant's first user holds every module in full. */
function permissionViews(user: UserRow, allModules: Array<{ slug: string }> = []): PermissionInput[] {
  if (user.head) {
    return allModules
      .map((m) => ({ slug: m.slug, allow_read: true, allow_create: true, allow_update: true, allow_delete: true }))
      .sort((a, b) => a.slug.localeCompare(b.slug));
  }
  return user.permissions
    .map((p) => ({
      slug: p.module.slug,
      allow_read: p.allowRead,
      allow_create: p.allowCreate,
      allow_update: p.allowUpdate,
      allow_delete: p.allowDelete,
    }))
    .sort((a, b) => a.slug.localeCompare(b.slug));
}

/** The seed's user fields. */
function userView(user: UserRow, allModules: Array<{ slug: string }> = []) {
  const permissions = permissionViews(user, allModules);
  return {
    user_id: user.id,
    org_id: user.tenantId,
    email: user.email,
    name: user.name,
    status: statusLabel(user.status),
    role_id: user.roleId,
    role: user.role.name,
    created_at: user.createdAt.toISOString(),
    updated_at: user.updatedAt.toISOString(),
    permission: permissions,
    permissions,
  };
}

/** The rows that store `permissions`, with each module's id. */
function permissionRows(permissions: PermissionInput[], modules: Map<string, string>): PermissionRow[] {
  return permissions.map((p) => ({
    moduleId: modules.get(p.slug) ?? "",
    allowRead: p.allow_read,
    allowCreate: p.allow_create,
    allowUpdate: p.allow_update,
    allowDelete: p.allow_delete,
  }));
}

function grantsOf(p: PermissionInput): Grants {
  return { read: p.allow_read, create: p.allow_create, update: p.allow_update, delete: p.allow_delete };
}

/**
 * Managing users inside a tenant: who may see whom, who may grant what. Every rule that stops a privilege
 * escalation lives here, next to the writes it guards.
 */
export class UserAdmin {
  constructor(
    private readonly db: Db,
    private readonly passwords: Passwords,
    private readonly sessions: Sessions,
  ) {}

  async list(tenant: TenantRef, page: { offset: number; limit: number }) {
    const users = await listTenantUsers(this.db, tenant.id, page);
    const modules = users.some((u) => u.head) ? await this.#modules() : [];
    return users.map((u) => userView(u, modules));
  }

  /** The seed's view of a user, with a head user's implicit permissions spelled out. */
  async view(user: UserRow) {
    return userView(user, user.head ? await this.#modules() : []);
  }

  #modules() {
    return liveModules(this.db);
  }

  async profile(userId: string): Promise<UserRow> {
    return findUser(this.db, userId);
  }

  async get(actor: Actor, userId: string, action: Action = "read"): Promise<UserRow> {
    const user = await findLiveUser(this.db, userId);
    assertReaches(actor, user ? tenantRef(user.tenant) : null, action, "user");
    if (!user) throw fail("NOT_FOUND", "no such user");
    return user;
  }

  async create(
    actor: Actor,
    tenant: TenantRef,
    input: { email: string; name: string; role_id: string; permissions: PermissionInput[]; password: string },
    origin: Origin,
  ) {
    const email = input.email.trim().toLowerCase();
    const role = await this.#assignableRole(actor, tenant, input.role_id);
    const modules = await this.#checkGrants(actor, input.permissions, []);
    await this.passwords.accept(input.password, { email, name: input.name });
    if (await emailInUse(this.db, email)) throw emailTaken();
    const passwordHash = await this.passwords.hash(input.password);
    try {
      return await this.db.$transaction(async (tx) => {
        const user = await insertUser(tx, {
          tenantId: tenant.id,
          email,
          name: input.name.trim(),
          passwordHash,
          roleId: role.id,
          internal: tenant.kind === "MAIN",
          createdById: actor.userId,
        });
        await replacePermissions(tx, user.id, permissionRows(input.permissions, modules));
        await auditChange(
          tx,
          origin,
          actor,
          "user.created",
          { type: "user", id: user.id, tenantId: tenant.id },
          { roleId: role.id, permissions: input.permissions.map((p) => p.slug) },
        );
        return findUser(tx, user.id);
      });
    } catch (error) {
      if ((error as { code?: string }).code === "P2002") throw emailTaken();
      throw error;
    }
  }

  async updateSelf(self: { userId: string; tenantId: string }, name: string, origin: Origin): Promise<void> {
    await this.db.$transaction(async (tx) => {
      await updateUser(tx, self.userId, { name: name.trim() });
      await expireClaims(tx, { id: self.userId }, this.sessions.view);
      await auditChange(
        tx,
        origin,
        self,
        "user.updated",
        { type: "user", id: self.userId, tenantId: self.tenantId },
        { fields: ["name"] },
      );
    });
  }

  async update(
    actor: Actor,
    userId: string,
    change: {
      role_id?: string | undefined;
      permissions?: PermissionInput[] | undefined;
      status?: "Active" | "Disabled" | undefined;
    },
    origin: Origin,
  ): Promise<void> {
    const target = await this.get(actor, userId, "update");
    this.#assertOutranks(actor, target);
    const tenant = { id: target.tenant.id, kind: target.tenant.kind, bankId: target.tenant.bankId };
    if (change.role_id !== undefined && change.role_id !== target.roleId) {
      if (target.id === actor.userId) throw fail("FORBIDDEN", "you cannot change your own role");
      await this.#assignableRole(actor, tenant, change.role_id);
      await this.#assertNotLastTopHolder(target);
    }
    if (change.status === "Disabled") {
      if (target.id === actor.userId) throw fail("FORBIDDEN", "you cannot disable yourself");
      await this.#assertNotLastTopHolder(target);
    }
    const current = permissionViews(target);
    const modules = change.permissions ? await this.#checkGrants(actor, change.permissions, current) : new Map();
    await this.db.$transaction(async (tx) => {
      await updateUser(tx, target.id, {
        ...(change.role_id ? { roleId: change.role_id } : {}),
        ...(change.status ? { status: change.status === "Active" ? "ACTIVE" : "DISABLED" } : {}),
      });
      if (change.permissions) await replacePermissions(tx, target.id, permissionRows(change.permissions, modules));
      if (change.status === "Disabled") await this.sessions.endAllFor(target.id, "disabled", { db: tx });
      await expireClaims(tx, { id: target.id }, this.sessions.view);
      await auditChange(
        tx,
        origin,
        actor,
        "user.updated",
        { type: "user", id: target.id, tenantId: target.tenantId },
        {
          roleId: change.role_id ?? null,
          status: change.status ?? null,
          permissions: change.permissions?.map((p) => p.slug) ?? null,
        },
      );
    });
  }

  /** Soft-deletes every listed user or none; their sessions end at once. */
  async delete(actor: Actor, userIds: string[], origin: Origin): Promise<void> {
    const targets: UserRow[] = [];
    for (const id of new Set(userIds)) {
      const target = await this.get(actor, id, "delete");
      this.#assertOutranks(actor, target);
      targets.push(target);
    }
    await this.db.$transaction(async (tx) => {
      for (const target of targets) {
        await this.#assertNotLastTopHolder(
          target,
          tx,
          targets.map((t) => t.id),
        );
        await updateUser(tx, target.id, { deletedAt: new Date() });
        await this.sessions.endAllFor(target.id, "user_deleted", { db: tx });
        await auditChange(tx, origin, actor, "user.deleted", {
          type: "user",
          id: target.id,
          tenantId: target.tenantId,
        });
      }
    });
  }

  /** A role of the target tenant, no more powerful than the actor's own (unless the actor is the platform owner). */
  async #assignableRole(actor: Actor, tenant: TenantRef, roleId: string) {
    const role = await findTenantRole(this.db, tenant.id, roleId);
    if (!role) {
      throw invalidField("role_id", "no such role in this tenant");
    }
    const platformOwner = isPlatformOwner(actor) && tenant.id !== actor.tenant.id;
    if (!platformOwner && role.rank < actor.roleRank)
      throw fail("FORBIDDEN", "you cannot assign a role above your own");
    return role;
  }

  /**
   * Every granted module exists; nobody grants a flag they do not hold, nor takes away one they do not
   * hold themselves (unchanged grants pass).
   */
  async #checkGrants(actor: Actor, wanted: PermissionInput[], current: PermissionInput[]) {
    const slugs = wanted.map((p) => p.slug);
    if (new Set(slugs).size !== slugs.length) {
      throw invalidField("permissions", "a module is listed twice");
    }
    const modules = new Map((await liveModules(this.db, slugs)).map((m) => [m.slug, m.id]));
    wanted.forEach((p, i) => {
      if (!modules.has(p.slug)) {
        throw invalidField(`permissions.${i}.slug`, "no such module");
      }
      const before = current.find((c) => c.slug === p.slug);
      const added = grantsOf(p);
      if (before) for (const a of ACTIONS) if (grantsOf(before)[a]) added[a] = false;
      if (!canGrant(actor, p.slug, added)) throw fail("FORBIDDEN", `you cannot grant more than you hold on ${p.slug}`);
    });
    for (const held of current) {
      const kept = wanted.find((p) => p.slug === held.slug);
      const removed = grantsOf(held);
      if (kept) for (const a of ACTIONS) if (grantsOf(kept)[a]) removed[a] = false;
      if (!canGrant(actor, held.slug, removed)) {
        throw fail("FORBIDDEN", `you cannot take away what you do not hold on ${held.slug}`);
      }
    }
    return modules;
  }

  /**
   * Only someone strictly above the target may change or remove them: equals cannot strip, demote or
   * disable each other. The tenant's first user outranks everyone in it and is changed only by the
   * platform owner.
   */
  #assertOutranks(actor: Actor, target: UserRow) {
    if (target.id === actor.userId) return;
    const platformOwner = isPlatformOwner(actor) && target.tenantId !== actor.tenant.id;
    if (platformOwner || actor.head) return;
    if (target.head || target.role.rank <= actor.roleRank) throw fail("FORBIDDEN", "that user does not rank below you");
  }

  async #assertNotLastTopHolder(target: UserRow, tx: DbOrTx = this.db, leaving: string[] = [target.id]) {
    if (target.role.rank !== 0 || !target.role.isSystem) return;
    const others = await countOtherHolders(tx, target.roleId, leaving);
    if (others === 0) throw fail("LAST_TOP_ROLE_HOLDER");
  }
}
