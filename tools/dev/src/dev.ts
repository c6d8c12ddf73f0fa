// `pnpm dev`: both services with NODE_ENV=development, restarted when a file changes. With DATABASE_URL and
// NATS_URL set (in the environment or `.env`), on those servers, as two processes: the servers are started
// when they do not answer (scripts/servers.mjs), the database made and migrated. With neither, in one
// process on the embedded database and event bus (embedded.ts). With only one, it refuses and says which
// is missing.
import { spawn } from "node:child_process";
import { join } from "node:path";
import { infrastructureOf, loadDotEnv } from "@ipaas/service-kit";

const root = join(import.meta.dirname, "..", "..", "..");
loadDotEnv();
process.env.NODE_ENV ??= "development";
const infrastructure = infrastructureOf(process.env);

function run(command: string, args: string[], cwd: string): void {
  const child = spawn(command, args, { cwd, stdio: "inherit", env: process.env });
  // The terminal's Ctrl-C reaches the child too (same process group); a SIGTERM sent to this process is passed on.
  process.on("SIGTERM", () => child.kill("SIGTERM"));
  process.on("SIGINT", () => undefined);
  child.on("exit", (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
}

if (typeof infrastructure === "string") {
  process.stderr.write(`pnpm dev refused to start: ${infrastructure}\n`);
  process.exit(1);
} else if (infrastructure.kind === "embedded") {
  const tools = join(root, "tools", "dev");
  run(join(tools, "node_modules", ".bin", "tsx"), ["watch", "--clear-screen=false", "src/serve.ts"], tools);
} else {
  run("sh", ["-c", 'node scripts/servers.mjs && pnpm db:migrate && pnpm --parallel --filter "./services/*" dev'], root);
}
