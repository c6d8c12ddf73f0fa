import type { Db } from "@ipaas/db";
import { type Actor, assertReaches, PLATFORM_MODULES, type TenantRef } from "../../access/access";
import { fail, invalidField } from "../../errors";
import { auditChange, tenantRef } from "../audit/audit";
import { expireClaims } from "../sessions/claims";
import type { AccessChanges } from "../sessions/session-view";

const PLATFORM_MODULE_SLUGS = new Set<string>(Object.values(PLATFORM_MODULES));

import type { Origin } from "../sessions/sessions";
import {
  countRoleHolders,
  findLiveModule,
  findLiveRole,
  insertModule,
  insertRole,
  listLiveModules,
  listTenantRoles,
  markModuleDeleted,
  markRoleDeleted,
  moduleSlugTaken,
  renameModule,
  roleNameTaken,
} from "./repository";

/** Custom roles rank below every system role. */
const CUSTOM_ROLE_RANK = 100;

export function roleView(role: { id: string; name: string; isSystem: boolean; createdAt: Date; updatedAt: Date }) {
  return {
    id: role.id,
    role: role.name,
    system: role.isSystem,
    created_at: role.createdAt.toISOString(),
    updated_at: role.updatedAt.toISOString(),
  };
}

export function moduleView(module: { id: string; name: string; slug: string; createdAt: Date; updatedAt: Date }) {
  return {
    id: module.id,
    module: module.name,
    slug: module.slug,
    created_at: module.createdAt.toISOString(),
    updated_at: module.updatedAt.toISOString(),
  };
}

/** "Settlement Reports" → "settlement-reports": what permissions name. It never changes after creation. */
function slugOf(name: string): string {
  return name
    .trim()
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "");
}

/** Roles of one tenant (system roles from birth, custom roles made by its users) and the global module catalogue. */
export class Catalogue {
  constructor(
    private readonly db: Db,
    private readonly view: AccessChanges,
  ) {}

  listRoles(tenant: TenantRef) {
    return listTenantRoles(this.db, tenant.id);
  }

  async getRole(actor: Actor, id: string) {
    const role = await findLiveRole(this.db, id);
    assertReaches(actor, role ? tenantRef(role.tenant) : null, "read", "role");
    if (!role) throw fail("NOT_FOUND", "no such role");
    return role;
  }

  async createRole(actor: Actor, tenant: TenantRef, name: string, origin: Origin) {
    const clean = name.trim();
    if (await roleNameTaken(this.db, tenant.id, clean))
      throw invalidField("role", `a role named ${clean} exists`, "ROLE_TAKEN");
    return this.db.$transaction(async (tx) => {
      const role = await insertRole(tx, { tenantId: tenant.id, name: clean, rank: CUSTOM_ROLE_RANK });
      await auditChange(tx, origin, actor, "role.created", { type: "role", id: role.id, tenantId: tenant.id });
      return role;
    });
  }

  /** Deletes every listed custom role or none: system roles and roles still assigned are refused. */
  async deleteRoles(actor: Actor, ids: string[], origin: Origin): Promise<void> {
    const roles: Array<{ id: string; name: string; tenantId: string }> = [];
    for (const id of new Set(ids)) {
      const role = await findLiveRole(this.db, id);
      assertReaches(actor, role ? tenantRef(role.tenant) : null, "delete", "role");
      if (!role) throw fail("NOT_FOUND", "no such role");
      if (role.isSystem) throw fail("SYSTEM_ROLE", `${role.name} is a system role`);
      if (await countRoleHolders(this.db, role.id)) {
        throw fail("ROLE_IN_USE", `${role.name} is assigned to users; give them another role first`);
      }
      roles.push(role);
    }
    await this.db.$transaction(async (tx) => {
      for (const role of roles) {
        await markRoleDeleted(tx, role, new Date());
        await auditChange(tx, origin, actor, "role.deleted", { type: "role", id: role.id, tenantId: role.tenantId });
      }
    });
  }

  listModules() {
    return listLiveModules(this.db);
  }

  async getModule(id: string) {
    const module = await findLiveModule(this.db, id);
    if (!module) throw fail("NOT_FOUND", "no such module");
    return module;
  }

  async createModule(actor: Actor, name: string, origin: Origin) {
    const slug = slugOf(name);
    if (await moduleSlugTaken(this.db, slug)) {
      throw invalidField("module", `a module with slug ${slug} exists`, "MODULE_TAKEN");
    }
    return this.db.$transaction(async (tx) => {
      const module = await insertModule(tx, { name: name.trim(), slug });
      // Head users hold every module: their tokens' permission lists just grew.
      await expireClaims(tx, { head: true, deletedAt: null }, this.view);
      await auditChange(tx, origin, actor, "module.created", {
        type: "module",
        id: module.id,
        tenantId: actor.tenant.id,
      });
      return module;
    });
  }

  /** Renames a module; its slug (what permissions name) stays. */
  async renameModule(actor: Actor, id: string, name: string, origin: Origin) {
    const module = await this.getModule(id);
    await this.db.$transaction(async (tx) => {
      await renameModule(tx, module.id, name.trim());
      await auditChange(tx, origin, actor, "module.renamed", {
        type: "module",
        id: module.id,
        tenantId: actor.tenant.id,
      });
    });
  }

  /** Deletes every listed module or none. Permissions naming it stop counting at once. */
  async deleteModules(actor: Actor, ids: string[], origin: Origin): Promise<void> {
    const modules: Array<{ id: string; slug: string }> = [];
    for (const id of new Set(ids)) {
      const module = await this.getModule(id);
      if (PLATFORM_MODULE_SLUGS.has(module.slug))
        throw fail("SYSTEM_MODULE", `${module.slug} guards the dashboard itself`);
      modules.push(module);
    }
    await this.db.$transaction(async (tx) => {
      await expireClaims(
        tx,
        {
          deletedAt: null,
          OR: [{ head: true }, { permissions: { some: { moduleId: { in: modules.map((m) => m.id) } } } }],
        },
        this.view,
      );
      for (const module of modules) {
        await markModuleDeleted(tx, module, new Date());
        await auditChange(tx, origin, actor, "module.deleted", {
          type: "module",
          id: module.id,
          tenantId: actor.tenant.id,
        });
      }
    });
  }
}
