// Test factories: each test makes its own tenants, so tests never depend on each other or on order.
// They write straight to the database; flows under test go through HTTP.
import type { Db } from "@ipaas/db";
import { newClientCredentials, newId } from "@ipaas/domain";

export interface TestOrganization {
  id: string;
  bankId: string;
  clientKey: string;
  clientSecret: string;
  scopes: string[];
}

async function createBank(db: Db, name = "Test Bank"): Promise<{ id: string }> {
  return db.tenant.create({
    data: { id: newId("bnk"), kind: "BANK", name, branch: "Main" },
    select: { id: true },
  });
}

export async function createOrganization(
  db: Db,
  options: { bankId?: string; scopes?: string[]; status?: "ACTIVE" | "SUSPENDED"; deleted?: boolean } = {},
): Promise<TestOrganization> {
  const bankId = options.bankId ?? (await createBank(db)).id;
  const scopes = options.scopes ?? ["read_bills", "read_packs"];
  const id = newId("org");
  const credentials = newClientCredentials();
  await db.tenant.create({
    data: {
      id,
      kind: "ORGANIZATION",
      name: `Org ${id.slice(-6)}`,
      bankId,
      organizationType: "BILLER",
      phone: "+919898989812",
      gst: "22AAAAA0000A1Z5",
      scopes,
      otpChannels: ["sms", "email"],
      status: options.status ?? "ACTIVE",
      deletedAt: options.deleted ? new Date() : null,
      credential: {
        create: { id: newId("cred"), clientKey: credentials.clientKey, secretHash: credentials.secretHash },
      },
    },
  });
  return { id, bankId, clientKey: credentials.clientKey, clientSecret: credentials.clientSecret, scopes };
}
