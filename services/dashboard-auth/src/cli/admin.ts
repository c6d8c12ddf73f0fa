// Operator commands: `pnpm --filter dashboard-auth admin <command> [--email …] [--name …]`
//   bootstrap   --email --name   create the platform owner (MAIN Owner); prints a one-time set-up link
//   setup-link  --email          a new one-time set-up (password reset) link for an existing user
//   reset-2fa   --email          reset a user's authenticator (after 100 wrong codes, or a lost device)
import { parseArgs } from "node:util";
import { EmbeddedDatabaseBusy, openDatabaseAt } from "@ipaas/db";
import { loadDotEnv, masterKeyOf } from "@ipaas/service-kit";
import { dashboardConfig } from "../config";
import { BootstrapError, bootstrapOwner, resetTwoFactor, setupLink } from "../features/banks/bootstrap";
import { createPasswords, passwordPepper } from "../features/passwords/passwords";
import { resetLink } from "../features/passwords/reset";
import { NO_SESSION_VIEW } from "../features/sessions/session-view";
import { TwoFactor } from "../features/two-factor/two-factor";

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: { email: { type: "string" }, name: { type: "string" } },
});
const [command] = positionals;

function out(line: string) {
  process.stdout.write(`${line}\n`);
}
function usage(message: string): never {
  process.stderr.write(
    `${message}\nusage: admin bootstrap --email <email> --name <name> | setup-link --email <email> | reset-2fa --email <email>\n`,
  );
  process.exit(2);
}

// The same settings the services read: the environment, then the nearest .env.
loadDotEnv();
const config = dashboardConfig.load();
const database = await openDatabaseAt(
  config.infrastructure.kind === "servers" ? config.infrastructure.databaseUrl : undefined,
).catch((error: unknown) => {
  if (!(error instanceof EmbeddedDatabaseBusy)) throw error;
  process.stderr.write(`${error.message}: stop \`pnpm dev\` and run the command again\n`);
  process.exit(1);
});
const { db } = database;
try {
  const email = values.email ?? usage("--email is required");
  if (command === "bootstrap") {
    const name = values.name ?? usage("--name is required");
    const { userId, setupToken } = await bootstrapOwner(
      db,
      await createPasswords({ pepper: passwordPepper(masterKeyOf(config)) }),
      { email, name },
    );
    out(`Platform owner ${email} created (${userId}).`);
    out("Set the password within 30 minutes (the link works once), then log in and set up two-factor:");
    out(`  ${resetLink(config.DASHBOARD_UI_URL, setupToken)}`);
    out(`  or: POST ${config.DASHBOARD_AUTH_ISSUER}/v1/auth/reset-password {"token":"${setupToken}","password":"…"}`);
  } else if (command === "setup-link") {
    const { setupToken } = await setupLink(db, email);
    out(`One-time set-up link for ${email} (30 minutes):`);
    out(`  ${resetLink(config.DASHBOARD_UI_URL, setupToken)}`);
  } else if (command === "reset-2fa") {
    await resetTwoFactor(db, new TwoFactor(db, masterKeyOf(config), NO_SESSION_VIEW), email);
    out(`Two-factor reset for ${email}: they set it up again at their next login.`);
  } else {
    usage(`unknown command: ${command ?? "(none)"}`);
  }
} catch (error) {
  if (error instanceof BootstrapError) {
    process.stderr.write(`${error.message}\n`);
    process.exitCode = 1;
  } else {
    throw error;
  }
} finally {
  await database.close();
}
