import type { Db, TenantModel as Tenant, Tx } from "@ipaas/db";
import { newClientCredentials, newId, otpBoundsOf, writeAudit } from "@ipaas/domain";
import type { FastifyBaseLogger } from "fastify";
import { fail, invalidField } from "../../errors";
import type { Mailer } from "../../plugins/mailer";
import { createSystemRoles, ORGANIZATION_TYPES, type OrganizationTypeLabel, SYSTEM_ROLES } from "../../shared/tenancy";
import { findLiveTenant, insertTenant } from "../../shared/tenants.repository";
import { auditChange } from "../audit/audit";
import { otpWithin } from "../organizations/organizations";
import type { Passwords } from "../passwords/passwords";
import { assertScopesWithin, scopesAllowedUnder } from "../scopes/scopes";
import type { Origin } from "../sessions/sessions";
import { emailInUse, insertUser } from "../users/repository";
import type { AttemptGates } from "./attempt-gates";

export interface FirstUser {
  name: string;
  email: string;
  password: string;
}

export interface BankInput extends FirstUser {
  bankName: string;
  branch: string;
  address: Record<string, string>;
}

export interface OrganizationInput extends FirstUser {
  bankId: string;
  billerId?: string | undefined;
  companyName: string;
  /** E.164, already validated. */
  phone: string;
  gst: string;
  type: OrganizationTypeLabel;
  scopes: string[];
}

export type BankRegistrationMode = "approval" | "open" | "closed";

/** What a registration answers with: the tenant, its top role and its first user. */
export interface Registered {
  tenant: Pick<Tenant, "id" | "name" | "branch" | "address" | "status" | "scopes" | "createdAt" | "updatedAt">;
  role: { id: string; name: string };
  user: { id: string; email: string; name: string };
}

class EmailInUse extends Error {}

/**
 * Registration of banks and organizations, each with its first user (Master Admin / Super Admin).
 *
 * Nobody grants themselves rights here: a bank that registers itself waits for the platform owner
 * (BANK_REGISTRATION), an organization for its bank (unless the bank lets them start at once), and an
 * organization asks only for scopes its bank allows from the platform's catalogue.
 *
 * An address that already has an account is answered exactly like a new one (the same status and body,
 * with ids that lead nowhere and credentials that do not work), nothing is created, and the address's
 * owner is told by mail: registration never reveals which accounts exist.
 */
export class Registration {
  constructor(
    private readonly db: Db,
    private readonly passwords: Passwords,
    private readonly mailer: Mailer,
    private readonly gates: AttemptGates,
    private readonly bankRegistration: BankRegistrationMode,
    private readonly log: FastifyBaseLogger,
  ) {}

  async registerBank(input: BankInput, origin: Origin): Promise<Registered> {
    if (this.bankRegistration === "closed") throw fail("REGISTRATION_CLOSED");
    const email = input.email.trim().toLowerCase();
    const passwordHash = await this.#hashPassword(input, email, origin);
    const tenant = {
      id: newId("bnk"),
      name: input.bankName.trim(),
      branch: input.branch.trim(),
      address: input.address,
      status: this.bankRegistration === "open" ? ("ACTIVE" as const) : ("PENDING" as const),
    };
    return this.#register("BANK", email, input.name, origin, tenant, async (tx, registered) => {
      await insertTenant(tx, { ...tenant, kind: "BANK" });
      const role = await createSystemRoles(tx, tenant.id, "BANK");
      const user = await this.#createFirstUser(tx, tenant.id, role.id, input.name, email, passwordHash);
      await auditChange(
        tx,
        origin,
        { userId: user.id },
        "tenant.bank_registered",
        {
          type: "tenant",
          id: tenant.id,
          tenantId: tenant.id,
        },
        { status: tenant.status },
      );
      return { ...registered, role, user };
    });
  }

  async registerOrganization(
    input: OrganizationInput,
    origin: Origin,
  ): Promise<Registered & { clientKey: string; clientSecret: string }> {
    const bank = await findLiveTenant(this.db, input.bankId);
    // A bank that is not Active yet is answered like one that does not exist.
    if (bank?.kind !== "BANK" || bank.deletedAt !== null || bank.status !== "ACTIVE") {
      throw invalidField("bankId", "no active bank has this id");
    }
    const scopes = [...new Set(input.scopes)];
    assertScopesWithin(scopes, await scopesAllowedUnder(this.db, bank), "scopes");
    const email = input.email.trim().toLowerCase();
    const passwordHash = await this.#hashPassword(input, email, origin);
    const credentials = newClientCredentials();
    // One-time codes by SMS and e-mail with the platform's default settings, within its bank's bounds.
    const otpChannels = ["sms", "email"];
    const tenant = {
      id: newId("org"),
      name: input.companyName.trim(),
      branch: null,
      address: null,
      scopes,
      status: bank.organizationSelfRegistration ? ("ACTIVE" as const) : ("PENDING" as const),
    };
    const registered = await this.#register("ORGANIZATION", email, input.name, origin, tenant, async (tx, shape) => {
      await insertTenant(tx, {
        id: tenant.id,
        kind: "ORGANIZATION",
        name: tenant.name,
        status: tenant.status,
        bankId: bank.id,
        organizationType: ORGANIZATION_TYPES[input.type],
        billerId: input.billerId?.trim() || null,
        phone: input.phone,
        gst: input.gst,
        scopes,
        otpChannels,
        ...otpWithin({ otpChannels, otpSettings: null }, otpBoundsOf(bank)),
        credential: {
          create: { id: newId("cred"), clientKey: credentials.clientKey, secretHash: credentials.secretHash },
        },
      });
      const role = await createSystemRoles(tx, tenant.id, "ORGANIZATION");
      const user = await this.#createFirstUser(tx, tenant.id, role.id, input.name, email, passwordHash);
      await auditChange(
        tx,
        origin,
        { userId: user.id },
        "tenant.organization_registered",
        { type: "tenant", id: tenant.id, tenantId: tenant.id },
        { bankId: bank.id, scopes, status: tenant.status },
      );
      return { ...shape, role, user };
    });
    // For a decoy these were never stored, so they authenticate nothing.
    return { ...registered, clientKey: credentials.clientKey, clientSecret: credentials.clientSecret };
  }

  /**
   * Runs `create` in one transaction unless the address has an account; then (or when a concurrent
   * registration takes the address first) answers with a decoy of the same shape and mails the owner.
   */
  async #register(
    kind: "BANK" | "ORGANIZATION",
    email: string,
    name: string,
    origin: Origin,
    tenant: Omit<Registered["tenant"], "createdAt" | "updatedAt" | "scopes"> & { scopes?: string[] },
    create: (tx: Tx, shape: Pick<Registered, "tenant">) => Promise<Registered>,
  ): Promise<Registered> {
    const now = new Date();
    const shape = { tenant: { scopes: [], ...tenant, createdAt: now, updatedAt: now } };
    try {
      if (await emailInUse(this.db, email)) throw new EmailInUse();
      return await this.db.$transaction((tx) => create(tx, shape));
    } catch (error) {
      if (!(error instanceof EmailInUse) && !isUniqueViolation(error)) throw error;
    }
    await writeAudit(
      this.db,
      {
        action: "tenant.registration_refused",
        outcome: "failure",
        actorType: "anonymous",
        details: { kind, reason: "email_taken" },
      },
      origin,
    );
    await this.#tellOwner(email, kind);
    const top = SYSTEM_ROLES[kind][0]?.name ?? "Admin";
    return { ...shape, role: { id: newId("rol"), name: top }, user: { id: newId("usr"), email, name: name.trim() } };
  }

  async #tellOwner(email: string, kind: "BANK" | "ORGANIZATION"): Promise<void> {
    if (!(await this.gates.admitMail("registration-notice", email))) return;
    const what = kind === "BANK" ? "a bank" : "an organization";
    this.mailer
      .send({
        to: email,
        subject: "Someone tried to register with your e-mail address",
        text: [
          "Hello,",
          "",
          `Someone tried to register ${what} on the IPaaS platform with this e-mail address, which already has`,
          'an account. Nothing was created. If it was you, sign in instead, or use "Forgot password".',
          "If it was not you, you need do nothing.",
        ].join("\n"),
      })
      .catch((error: unknown) => this.log.error({ err: error }, "could not send a registration notice"));
  }

  async #hashPassword(input: FirstUser, email: string, origin: Origin): Promise<string> {
    await this.passwords.accept(input.password, { email, name: input.name });
    return this.passwords.hash(input.password, origin.ip ?? undefined);
  }

  async #createFirstUser(tx: Tx, tenantId: string, roleId: string, name: string, email: string, passwordHash: string) {
    return insertUser(tx, { tenantId, roleId, name: name.trim(), email, passwordHash, head: true });
  }
}

function isUniqueViolation(error: unknown): boolean {
  return (error as { code?: string }).code === "P2002";
}
