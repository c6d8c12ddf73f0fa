import type { Db, Prisma, Tx } from "@ipaas/db";
import { newClientCredentials, newId } from "@ipaas/service-kit";
import { fail } from "../errors";
import { auditChange } from "./audit";
import type { Passwords } from "./passwords";
import type { Origin } from "./sessions";
import { createSystemRoles, ORGANIZATION_TYPES, type OrganizationTypeLabel } from "./tenancy";

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

function isUniqueViolation(error: unknown): boolean {
  return (error as { code?: string }).code === "P2002";
}

/** Registration of banks and organizations, each with its first user (Master Admin / Super Admin). */
export class Registration {
  constructor(
    private readonly db: Db,
    private readonly passwords: Passwords,
  ) {}

  async registerBank(input: BankInput, origin: Origin) {
    const email = await this.#prepareEmail(input);
    const passwordHash = await this.#hashPassword(input, email);
    const bankId = newId("bnk");
    const result = await this.#create(async (tx) => {
      const tenant = await tx.tenant.create({
        data: {
          id: bankId,
          kind: "BANK",
          name: input.bankName.trim(),
          branch: input.branch.trim(),
          address: input.address as Prisma.InputJsonValue,
        },
      });
      const role = await createSystemRoles(tx, bankId, "BANK");
      const user = await this.#createFirstUser(tx, bankId, role.id, input.name, email, passwordHash);
      await auditChange(tx, origin, { userId: user.id }, "tenant.bank_registered", {
        type: "tenant",
        id: bankId,
        tenantId: bankId,
      });
      return { tenant, role, user };
    });
    return result;
  }

  async registerOrganization(input: OrganizationInput, origin: Origin) {
    const bank = await this.db.tenant.findUnique({ where: { id: input.bankId } });
    if (bank?.kind !== "BANK" || bank.deletedAt !== null || bank.status !== "ACTIVE") {
      throw fail("VALIDATION_FAILED", "bankId: no such bank", {
        errors: [{ field: "bankId", message: "no active bank has this id" }],
      });
    }
    const email = await this.#prepareEmail(input);
    const passwordHash = await this.#hashPassword(input, email);
    const orgId = newId("org");
    const credentials = newClientCredentials();
    const result = await this.#create(async (tx) => {
      const tenant = await tx.tenant.create({
        data: {
          id: orgId,
          kind: "ORGANIZATION",
          name: input.companyName.trim(),
          bankId: bank.id,
          organizationType: ORGANIZATION_TYPES[input.type],
          billerId: input.billerId?.trim() || null,
          phone: input.phone,
          gst: input.gst,
          scopes: input.scopes,
          otpChannels: ["sms", "email"],
          credential: {
            create: { id: newId("cred"), clientKey: credentials.clientKey, secretHash: credentials.secretHash },
          },
        },
      });
      const role = await createSystemRoles(tx, orgId, "ORGANIZATION");
      const user = await this.#createFirstUser(tx, orgId, role.id, input.name, email, passwordHash);
      await auditChange(
        tx,
        origin,
        { userId: user.id },
        "tenant.organization_registered",
        { type: "tenant", id: orgId, tenantId: orgId },
        { bankId: bank.id, scopes: input.scopes },
      );
      return { tenant, role, user };
    });
    return { ...result, clientKey: credentials.clientKey, clientSecret: credentials.clientSecret };
  }

  async #prepareEmail(input: FirstUser): Promise<string> {
    const email = input.email.trim().toLowerCase();
    if (await this.db.user.findUnique({ where: { email }, select: { id: true } })) throw emailTaken();
    return email;
  }

  async #hashPassword(input: FirstUser, email: string): Promise<string> {
    const verdict = this.passwords.check(input.password, [email, email.split("@")[0] ?? "", input.name]);
    if (!verdict.ok) {
      throw fail("WEAK_PASSWORD", `password: ${verdict.reason}`, {
        errors: [{ field: "password", message: verdict.reason }],
      });
    }
    return this.passwords.hash(input.password);
  }

  async #createFirstUser(tx: Tx, tenantId: string, roleId: string, name: string, email: string, passwordHash: string) {
    return tx.user.create({
      data: { id: newId("usr"), tenantId, roleId, name: name.trim(), email, passwordHash, head: true },
    });
  }

  /** Runs the writes in one transaction; a concurrent registration of the same email becomes EMAIL_TAKEN. */
  async #create<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
    try {
      return await this.db.$transaction(fn);
    } catch (error) {
      if (isUniqueViolation(error)) throw emailTaken();
      throw error;
    }
  }
}

function emailTaken() {
  return fail("EMAIL_TAKEN", "email: an account with this email exists", {
    errors: [{ field: "email", message: "an account with this email exists" }],
  });
}
