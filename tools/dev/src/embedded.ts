// The embedded development mode: both services in one process, on Postgres compiled to WebAssembly
// (PGlite, data under `.data/postgres`) and an in-process event bus, with the same migrations, outbox,
// relay and consumers as on servers. What `pnpm dev` runs when neither DATABASE_URL nor NATS_URL is set.
import { join, relative } from "node:path";
import { type Db, EmbeddedDatabaseBusy, embeddedDataDir, migrationsDir, openEmbeddedDatabase } from "@ipaas/db";
import { LocalBus, LocalLink } from "@ipaas/events";
import { loadConfigOrExit, serveAll } from "@ipaas/service-kit";
import apiAuth, { apiConfig } from "api-auth";
import dashboardAuth, { dashboardConfig } from "dashboard-auth";
import type { FastifyInstance } from "fastify";

const ROOT = join(import.meta.dirname, "..", "..", "..");

export interface EmbeddedServices {
  db: Db;
  dashboard: FastifyInstance;
  api: FastifyInstance;
  /** Drains both services and closes the database. */
  stop(): Promise<void>;
}

/** Why the embedded mode cannot start here, in one line. */
export class EmbeddedRefused extends Error {}

/**
 * Opens (and migrates) the embedded database, starts both services on their ports over it and one
 * in-process bus, and says so in one line. SIGTERM or SIGINT drains both, then closes the database.
 */
export async function startEmbedded(): Promise<EmbeddedServices> {
  const dashboardSettings = loadConfigOrExit("dashboard-auth", () => dashboardConfig.load());
  const apiSettings = loadConfigOrExit("api-auth", () => apiConfig.load());
  if (dashboardSettings.infrastructure.kind !== "embedded")
    throw new EmbeddedRefused("DATABASE_URL and NATS_URL are set: the services run on those servers");

  const started = performance.now();
  const embedded = await openEmbeddedDatabase(embeddedDataDir()).catch((error: unknown) => {
    if (error instanceof EmbeddedDatabaseBusy)
      throw new EmbeddedRefused(`${error.message}: stop that process (pnpm dev or pnpm demo) first`);
    throw error;
  });
  try {
    await embedded.migrate(migrationsDir);
  } catch (error) {
    await embedded.close();
    throw error;
  }
  // One bus for the process; each service has its own link to it, as each has its own NATS connection.
  const bus = new LocalBus();
  const served = await serveAll(
    [
      {
        service: "dashboard-auth",
        config: dashboardSettings,
        port: dashboardSettings.DASHBOARD_AUTH_PORT,
        register: (app) =>
          app.register(dashboardAuth, { config: dashboardSettings, db: embedded.db, events: new LocalLink(bus) }),
      },
      {
        service: "api-auth",
        config: apiSettings,
        port: apiSettings.API_AUTH_PORT,
        register: (app) => app.register(apiAuth, { config: apiSettings, db: embedded.db, events: new LocalLink(bus) }),
      },
    ],
    { afterClose: () => embedded.close() },
  );
  const [dashboard, api] = served.apps as [FastifyInstance, FastifyInstance];

  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  const host = `http://${dashboardSettings.HOST}`;
  process.stdout.write(
    `embedded development mode: Postgres in this process (data in ${relative(ROOT, embeddedDataDir())}), ` +
      `events on an in-process bus; dashboard-auth ${host}:${dashboardSettings.DASHBOARD_AUTH_PORT}, ` +
      `api-auth ${host}:${apiSettings.API_AUTH_PORT}; ready in ${seconds} s. ` +
      "Set DATABASE_URL and NATS_URL to run on servers.\n",
  );
  return { db: embedded.db, dashboard, api, stop: served.close };
}
