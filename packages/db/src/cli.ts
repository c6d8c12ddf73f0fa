// `pnpm db:migrate`: applies pending migrations to DATABASE_URL.
import { migrate, migrationsDir } from "./index";

const url = process.env.DATABASE_URL;
if (!url) {
  process.stderr.write("DATABASE_URL is not set\n");
  process.exit(2);
}
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
