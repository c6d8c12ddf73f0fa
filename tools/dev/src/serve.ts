// The embedded development mode's process (`pnpm dev` runs it under `tsx watch`, which restarts it when a
// file changes): both services on the embedded database and event bus until SIGTERM or SIGINT.
import { EmbeddedRefused, startEmbedded } from "./embedded";

try {
  await startEmbedded();
} catch (error) {
  if (!(error instanceof EmbeddedRefused)) throw error;
  process.stderr.write(`pnpm dev refused to start: ${error.message}\n`);
  process.exit(1);
}
