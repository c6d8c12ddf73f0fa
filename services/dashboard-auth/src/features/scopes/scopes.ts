import type { Db, DbOrTx, Prisma } from "@ipaas/db";
import type { Actor } from "../../access/access";
import { fail, invalidField } from "../../errors";
import { auditChange } from "../audit/audit";
import { changeOrganization } from "../organizations/organizations";
import type { Origin } from "../sessions/sessions";
import {
  banksListing,
  deleteScope,
  describeScope,
  insertScope,
  listScopes,
  organizationsHolding,
  scopeNames,
  setBankScopeList,
} from "./repository";

export function scopeView(scope: { name: string; description: string; createdAt: Date; updatedAt: Date }) {
  return {
    name: scope.name,
    description: scope.description,
    created_at: scope.createdAt.toISOString(),
    updated_at: scope.updatedAt.toISOString(),
  };
}

/** A bank's list of the scopes its organizations may hold, or null for "the whole catalogue". */
export function bankScopeList(bank: { organizationScopes: Prisma.JsonValue | null }): string[] | null {
  const list = bank.organizationScopes;
  return Array.isArray(list) ? list.filter((s): s is string => typeof s === "string") : null;
}

/** The scopes an organization of this bank may hold: the bank's choice, within the current catalogue. */
export async function scopesAllowedUnder(
  db: DbOrTx,
  bank: { organizationScopes: Prisma.JsonValue | null },
): Promise<Set<string>> {
  const catalogue = await scopeNames(db);
  const chosen = bankScopeList(bank);
  return new Set(chosen === null ? catalogue : catalogue.filter((name) => chosen.includes(name)));
}

/** Refuses (400, naming them) the wanted scopes that are not in `allowed`. */
export function assertScopesWithin(wanted: readonly string[], allowed: ReadonlySet<string>, field: string): void {
  const refused = wanted.filter((s) => !allowed.has(s));
  if (refused.length === 0) return;
  const message = `not allowed here: ${refused.join(", ")}`;
  throw invalidField(field, message, "SCOPES_NOT_ALLOWED");
}

/**
 * The platform's API scope catalogue, kept by the platform owner. Removing a scope takes it away from
 * every bank's list and every organization at once, each organization with its event for api-auth.
 */
export class ScopeCatalogue {
  constructor(private readonly db: Db) {}

  list() {
    return listScopes(this.db);
  }

  async create(actor: Actor, input: { name: string; description: string }, origin: Origin) {
    try {
      return await this.db.$transaction(async (tx) => {
        const scope = await insertScope(tx, { name: input.name, description: input.description.trim() });
        await auditChange(tx, origin, actor, "scope.created", { type: "scope", id: scope.name, tenantId: null });
        return scope;
      });
    } catch (error) {
      if ((error as { code?: string }).code === "P2002") throw fail("SCOPE_TAKEN");
      throw error;
    }
  }

  async update(actor: Actor, name: string, description: string, origin: Origin) {
    return this.db.$transaction(async (tx) => {
      const scope = await describeScope(tx, name, description.trim());
      if (!scope) throw fail("NOT_FOUND", "no such scope");
      await auditChange(tx, origin, actor, "scope.updated", { type: "scope", id: name, tenantId: null });
      return scope;
    });
  }

  async delete(actor: Actor, name: string, origin: Origin): Promise<void> {
    await this.db.$transaction(async (tx) => {
      if (!(await deleteScope(tx, name))) throw fail("NOT_FOUND", "no such scope");
      const banks = await banksListing(tx, name);
      for (const bank of banks) {
        await setBankScopeList(
          tx,
          bank.id,
          (bankScopeList(bank) ?? []).filter((s) => s !== name),
        );
      }
      const organizations = await organizationsHolding(tx, name);
      for (const org of organizations) {
        await changeOrganization(tx, org.id, { scopes: org.scopes.filter((s) => s !== name) });
      }
      await auditChange(
        tx,
        origin,
        actor,
        "scope.deleted",
        { type: "scope", id: name, tenantId: null },
        { banks: banks.length, organizations: organizations.length },
      );
    });
  }
}
