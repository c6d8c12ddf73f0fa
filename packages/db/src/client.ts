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

/**
 * What `runPrepared` and `listen` reach under a client made here: a Postgres server's connection pool, or
 * the embedded database (see embedded.ts).
 */
export interface RawAccess {
  query<Row>(statement: PreparedStatement, values: unknown[]): Promise<Row[]>;
  listen(
    channel: string,
    onNotify: () => void,
    onError: (error: unknown) => void,
    onConnected: () => void,
  ): Promise<() => Promise<void>>;
}

const raws = new WeakMap<Db, RawAccess>();

/** Records what a client made by this package reaches underneath (for embedded.ts). */
export function registerRawAccess(db: Db, raw: RawAccess): void {
  raws.set(db, raw);
}

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
  registerRawAccess(db, {
    async query<Row>(statement: PreparedStatement, values: unknown[]) {
      const result = await pool.query({ name: statement.name, text: statement.text, values });
      return result.rows as Row[];
    },
    listen: (channel, onNotify, onError, onConnected) =>
      listenOnServer(databaseUrl, channel, onNotify, onError, onConnected),
  });
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
  const raw = raws.get(db);
  if (!raw) throw new Error("runPrepared needs a client made by createDb or openEmbeddedDatabase");
  return raw.query<Row>(statement, values);
}

/** How long `listen` waits before connecting again after losing its connection (doubling, at most 30 s). */
const RELISTEN_FIRST_MS = 500;
const RELISTEN_MAX_MS = 30_000;

/**
 * Listens for Postgres notifications on `channel` (LISTEN/NOTIFY) on a connection of its own, outside the
 * pool, and calls `onNotify` for each. A lost connection is made again with a growing delay, and
 * `onNotify` is also called once it is back: notifications sent meanwhile are lost, so the listener must
 * look for itself. It never throws: when Postgres cannot be reached it keeps trying in the background.
 * `onConnected` is called each time the connection is (re)made, `onError` each time it is lost or cannot
 * be made: together they tell whether this process can reach Postgres right now.
 * Returns the function that stops listening.
 */
export async function listen(
  db: Db,
  channel: string,
  onNotify: () => void,
  onError: (error: unknown) => void = () => undefined,
  onConnected: () => void = () => undefined,
): Promise<() => Promise<void>> {
  const raw = raws.get(db);
  if (!raw) throw new Error("listen needs a client made by createDb or openEmbeddedDatabase");
  if (!/^[a-z_][a-z0-9_]*$/.test(channel)) throw new Error(`not a channel name: ${channel}`);
  return raw.listen(channel, onNotify, onError, onConnected);
}

/** `listen` on a Postgres server: a connection of its own, made again whenever it is lost. */
async function listenOnServer(
  url: string,
  channel: string,
  onNotify: () => void,
  onError: (error: unknown) => void,
  onConnected: () => void,
): Promise<() => Promise<void>> {
  let stopped = false;
  let client: pg.Client | null = null;
  let retry: NodeJS.Timeout | undefined;
  let delay = RELISTEN_FIRST_MS;
  const connect = async (again: boolean): Promise<void> => {
    const next = new pg.Client({ connectionString: url });
    next.on("notification", (message) => {
      if (message.channel === channel) onNotify();
    });
    next.on("error", (error) => {
      onError(error);
      reconnect();
    });
    // A connection the server or the network ended without an error of its own is lost all the same.
    next.on("end", () => {
      if (client !== next || stopped) return;
      onError(new Error("the notification connection ended"));
      reconnect();
    });
    try {
      await next.connect();
      await next.query(`LISTEN ${channel}`);
    } catch (error) {
      await next.end().catch(() => undefined);
      throw error;
    }
    if (stopped) {
      await next.end().catch(() => undefined);
      return;
    }
    client = next;
    delay = RELISTEN_FIRST_MS;
    onConnected();
    if (again) onNotify();
  };
  const reconnect = () => {
    const lost = client;
    client = null;
    lost?.end().catch(() => undefined);
    if (stopped || retry) return;
    retry = setTimeout(() => {
      retry = undefined;
      connect(true).catch((error: unknown) => {
        onError(error);
        delay = Math.min(delay * 2, RELISTEN_MAX_MS);
        reconnect();
      });
    }, delay);
    retry.unref();
  };
  // Not reachable now: keep trying in the background; the caller's own polling covers the gap.
  await connect(false).catch((error: unknown) => {
    onError(error);
    reconnect();
  });
  return async () => {
    stopped = true;
    clearTimeout(retry);
    await (client as pg.Client | null)?.end().catch(() => undefined);
    client = null;
  };
}
