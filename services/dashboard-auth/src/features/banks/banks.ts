import type { Db, TenantModel as Tenant, TenantStatus, Tx } from "@ipaas/db";
import { newId, type OtpBounds, otpBoundsOf } from "@ipaas/domain";
import { randomToken } from "@ipaas/service-kit";
import { type Actor, isPlatformOwner } from "../../access/access";
import { emailTaken, fail, invalidField } from "../../errors";
import type { Mailer } from "../../plugins/mailer";
import { createSystemRoles, statusLabel } from "../../shared/tenancy";
import { insertTenant } from "../../shared/tenants.repository";
import { auditChange } from "../audit/audit";
import { changeOrganization, otpWithin } from "../organizations/organizations";
import type { Passwords } from "../passwords/passwords";
import { createResetToken, resetLink } from "../passwords/reset";
import { scopeNames } from "../scopes/repository";
import { bankScopeList } from "../scopes/scopes";
import type { Origin } from "../sessions/sessions";
import { emailInUse, insertUser } from "../users/repository";
import { findBank, listBanks, organizationsOf, updateBank } from "./repository";

export function bankView(bank: Tenant) {
  return {
    bankId: bank.id,
    bankName: bank.name,
    branch: bank.branch ?? "",
    address: (bank.address ?? {}) as Record<string, string>,
    status: statusLabel(bank.status),
    organizationScopes: bankScopeList(bank),
    organizationSelfRegistration: bank.organizationSelfRegistration,
    organizationOtp: otpBoundsOf(bank),
    createdAt: bank.createdAt.toISOString(),
    updatedAt: bank.updatedAt.toISOString(),
  };
}

export interface BankSettings {
  /** null: the whole catalogue. */
  organizationScopes?: string[] | null | undefined;
  organizationSelfRegistration?: boolean | undefined;
  /** null: the platform's limits. */
  organizationOtp?: OtpBounds | null | undefined;
}

export interface NewBank {
  bankName: string;
  branch: string;
  address: Record<string, string>;
  /** The Master Admin, who sets their own password from the link mailed to them. */
  name: string;
  email: string;
}

/** Banks as the platform owner onboards them and as they set the terms for their organizations. */
export class Banks {
  constructor(
    private readonly db: Db,
    private readonly passwords: Passwords,
    private readonly mailer: Mailer,
    private readonly uiUrl: string,
  ) {}

  list(status: TenantStatus | undefined) {
    return listBanks(this.db, status);
  }

  /** A bank the actor may see: their own, or any for the platform owner. Others' are answered 404. */
  async get(actor: Actor, bankId: string): Promise<Tenant> {
    const bank = await findBank(this.db, bankId);
    if (!bank || !(isPlatformOwner(actor) || actor.tenant.id === bank.id)) throw fail("NOT_FOUND", "no such bank");
    return bank;
  }

  /**
   * The platform owner creates a bank, Active at once, with its Master Admin. Nobody chooses that
   * person's password for them: they get a single-use link by mail, as the owner got theirs.
   */
  async create(actor: Actor, input: NewBank, origin: Origin) {
    const email = input.email.trim().toLowerCase();
    if (await emailInUse(this.db, email)) throw emailTaken();
    const passwordHash = await this.passwords.hash(randomToken(32), origin.ip ?? undefined);
    const bankId = newId("bnk");
    const created = await this.db.$transaction(async (tx) => {
      const bank = await insertTenant(tx, {
        id: bankId,
        kind: "BANK",
        name: input.bankName.trim(),
        branch: input.branch.trim(),
        address: input.address,
      });
      const role = await createSystemRoles(tx, bankId, "BANK");
      const user = await insertUser(tx, {
        tenantId: bankId,
        roleId: role.id,
        name: input.name.trim(),
        email,
        passwordHash,
        head: true,
        createdById: actor.userId,
      });
      await auditChange(tx, origin, actor, "tenant.bank_created", { type: "tenant", id: bankId, tenantId: bankId });
      return { bank, role, user };
    });
    const token = await createResetToken(this.db, created.user.id);
    await this.mailer.send({
      to: email,
      subject: "Your IPaaS bank account",
      text: [
        `Hello ${created.user.name},`,
        "",
        `The IPaaS platform has opened an account for ${created.bank.name}, with you as its Master Admin.`,
        "Choose your password with this link within 30 minutes; it works once:",
        "",
        resetLink(this.uiUrl, token),
      ].join("\n"),
    });
    return created;
  }

  /** The platform owner lets a bank that registered itself begin. */
  async approve(actor: Actor, bankId: string, origin: Origin): Promise<Tenant> {
    const bank = await this.get(actor, bankId);
    if (bank.status !== "PENDING") throw fail("NOT_PENDING", "this bank is not waiting for approval");
    return this.db.$transaction(async (tx) => {
      const approved = await updateBank(tx, bank.id, { status: "ACTIVE" });
      await auditChange(tx, origin, actor, "tenant.bank_approved", { type: "tenant", id: bank.id, tenantId: bank.id });
      return approved;
    });
  }

  /**
   * A bank (its own users, or the platform owner) chooses which catalogue scopes its organizations may
   * hold, the bounds of their one-time-code settings, and whether they start Active. Narrowing takes what
   * falls outside from its organizations at once, each with its event for api-auth, since no child holds
   * more than its parent allows.
   */
  async updateSettings(actor: Actor, bankId: string, settings: BankSettings, origin: Origin): Promise<Tenant> {
    const bank = await this.get(actor, bankId);
    const { organizationScopes: list, organizationOtp: bounds } = settings;
    return this.db.$transaction(async (tx) => {
      if (list) {
        const catalogue = new Set(await scopeNames(tx));
        const unknown = list.filter((s) => !catalogue.has(s));
        if (unknown.length > 0) {
          const message = `not in the scope catalogue: ${unknown.join(", ")}`;
          throw invalidField("organizationScopes", message, "SCOPES_NOT_ALLOWED");
        }
      }
      const updated = await updateBank(tx, bank.id, {
        ...(list !== undefined ? { organizationScopes: list } : {}),
        ...(bounds !== undefined ? { organizationOtp: bounds } : {}),
        ...(settings.organizationSelfRegistration !== undefined
          ? { organizationSelfRegistration: settings.organizationSelfRegistration }
          : {}),
      });
      // After the bank's row is written (and locked): an organization changing at the same moment either
      // committed first and is clamped here, or waits for this and is checked against the new terms.
      if (list || bounds) await narrowOrganizations(tx, bank.id, list ?? null, bounds ?? null);
      await auditChange(
        tx,
        origin,
        actor,
        "tenant.bank_settings_updated",
        { type: "tenant", id: bank.id, tenantId: bank.id },
        {
          organizationScopes: list === undefined ? "unchanged" : list,
          organizationSelfRegistration: settings.organizationSelfRegistration ?? "unchanged",
          organizationOtp: bounds === undefined ? "unchanged" : bounds,
        },
      );
      return updated;
    });
  }
}

/**
 * Brings each of the bank's organizations within its new terms (null: that term is not narrowed): the scopes
 * it no longer allows are dropped and the one-time-code settings clamped to its bounds, in one change per
 * organization, and only for those that held more.
 */
async function narrowOrganizations(tx: Tx, bankId: string, scopes: string[] | null, bounds: OtpBounds | null) {
  for (const org of await organizationsOf(tx, bankId)) {
    const kept = scopes ? org.scopes.filter((s) => scopes.includes(s)) : org.scopes;
    const change = {
      ...(kept.length < org.scopes.length ? { scopes: kept } : {}),
      ...otpWithin(org, bounds),
    };
    if (Object.keys(change).length > 0) await changeOrganization(tx, org.id, change);
  }
}
