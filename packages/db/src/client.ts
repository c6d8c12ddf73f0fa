import { PrismaPg } from "@prisma/adapter-pg";
import pg from "pg";
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

/** Each client's connection pool, for `runPrepared`. */
const pools = new WeakMap<Db, pg.Pool>();

/**
 * Builds a Prisma client over node-postgres. This is the only place that knows the driver.
 */
export function createDb(databaseUrl: string, options: DbOptions = {}): Db {
  const pool = new pg.Pool({
    connectionString: databaseUrl,
    max: options.poolSize ?? 10,
    connectionTimeoutMillis: options.connectionTimeoutMs ?? 5_000,
  });
  const db = new PrismaClient({ adapter: new PrismaPg(pool, { disposeExternalPool: true }) });
  pools.set(db, pool);
  return db;
}

/** A statement that each connection parses and plans once, under its name, and then only executes. */
export interface PreparedStatement {
  /** Unique across the service: a connection keeps one plan per name. */
  name: string;
  /** SQL with `$1`, `$2`… placeholders. */
  text: string;
}

/**
 * Runs a prepared statement on one of the client's pooled connections, outside any transaction (it is
 * one statement, so it commits whole or not at all). For the few hot paths where Postgres spends longer
 * planning a statement than running it; everything else goes through Prisma.
 */
export async function runPrepared<Row>(db: Db, statement: PreparedStatement, values: unknown[]): Promise<Row[]> {
  const pool = pools.get(db);
  if (!pool) throw new Error("runPrepared needs a client made by createDb");
  const result = await pool.query({ name: statement.name, text: statement.text, values });
  return result.rows as Row[];
}
