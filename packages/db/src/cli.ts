// `pnpm db:migrate`: applies pending migrations to DATABASE_URL (from the environment or the repository's
// `.env`; the same default as the services' configuration otherwise).
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { migrate, migrationsDir } from "./index";

const envFile = resolve(migrationsDir, "../../.env");
if (process.env.ENV_FILE !== "none" && existsSync(envFile)) process.loadEnvFile(envFile);
const url = process.env.DATABASE_URL || "postgres://postgres@127.0.0.1:5432/ipaas";

try {
  const { applied, alreadyApplied } = await migrate(url, migrationsDir);
  process.stdout.write(
    applied.length === 0
      ? `database is up to date (${alreadyApplied.length} migrations)\n`
      : `applied ${applied.length} migration(s): ${applied.join(", ")}\n`,
  );
} catch (error) {
  process.stderr.write(`${(error as Error).message}\n`);
  process.exit(1);
}
