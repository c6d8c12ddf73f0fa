import { PrismaPg } from "@prisma/adapter-pg";
import { type Prisma, PrismaClient } from "./generated/prisma/client";

/** The Prisma client every service uses. */
export type Db = PrismaClient;
/** What a repository receives inside a caller's transaction. */
export type Tx = Prisma.TransactionClient;
/** Either: repositories accept an optional transaction and fall back to the client. */
export type DbOrTx = Db | Tx;

export interface DbOptions {
  /** Largest number of pooled connections (node-postgres `max`). */
  poolSize?: number;
  /** How long a query may wait for a free connection before failing, in ms. */
  connectionTimeoutMs?: number;
}

/**
 * Builds a Prisma client over node-postgres. This is the only place that knows the driver.
 */
export function createDb(databaseUrl: string, options: DbOptions = {}): Db {
  const adapter = new PrismaPg({
    connectionString: databaseUrl,
    max: options.poolSize ?? 10,
    connectionTimeoutMillis: options.connectionTimeoutMs ?? 5_000,
  });
  return new PrismaClient({ adapter });
}
