import type { FastifyInstance } from "fastify";
import fp from "fastify-plugin";
import type { DashboardConfig } from "../../config";
import { rangeService } from "./breached";
import { createPasswords, type Passwords, passwordPepper } from "./passwords";

export type { Passwords };

declare module "fastify" {
  interface FastifyInstance {
    passwords: Passwords;
  }
}

/**
 * Password hashing (argon2id, peppered with a key derived from the master key ring) and policy, with the
 * breached-password check when BREACHED_PASSWORDS_URL is set, as `app.passwords`.
 */
export const passwordsPlugin = fp(
  async (app: FastifyInstance, { config }: { config: DashboardConfig }) => {
    const url = config.BREACHED_PASSWORDS_URL;
    app.decorate(
      "passwords",
      await createPasswords({
        pepper: passwordPepper(app.masterKey),
        breached: url === undefined ? undefined : rangeService(url, config.BREACHED_PASSWORDS_TIMEOUT_MS),
        log: app.log,
      }),
    );
  },
  { name: "passwords" },
);
