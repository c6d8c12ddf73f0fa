import type { FastifyInstance } from "fastify";
import fp from "fastify-plugin";
import { createPasswords, type Passwords } from "./passwords";

export type { Passwords };

declare module "fastify" {
  interface FastifyInstance {
    passwords: Passwords;
  }
}

/** Password hashing (argon2id) and policy as `app.passwords`. */
export const passwordsPlugin = fp(
  async (app: FastifyInstance) => {
    app.decorate("passwords", await createPasswords());
  },
  { name: "passwords" },
);
