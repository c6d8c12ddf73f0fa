// Runs `prisma generate` for the shared schema. Generate needs no schema engine, but the Prisma CLI
// tries to download one unless PRISMA_SCHEMA_ENGINE_BINARY names an existing file; any file will do.
import { execFileSync } from "node:child_process";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, "../../..");
const env = { ...process.env };
env.PRISMA_SCHEMA_ENGINE_BINARY ??= process.execPath;
env.PRISMA_HIDE_UPDATE_MESSAGE = "1";
env.CHECKPOINT_DISABLE = "1";
execFileSync(
  process.execPath,
  [
    resolve(here, "../node_modules/prisma/build/index.js"),
    "generate",
    "--schema",
    resolve(root, "prisma/schema.prisma"),
  ],
  { stdio: "inherit", env, cwd: root },
);
