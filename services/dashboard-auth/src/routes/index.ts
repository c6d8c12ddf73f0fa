import type { FastifyInstance } from "fastify";
import loginRoutes from "./auth/login";
import passwordRoutes from "./auth/passwords";
import registrationRoutes from "./auth/registration";
import sessionRoutes from "./auth/sessions";
import twoFactorRoutes from "./auth/two-factor";
import changePasswordRoutes from "./users/change-password";

/** Every `/v1` route of dashboard-auth. */
export default async function routes(app: FastifyInstance) {
  await app.register(registrationRoutes);
  await app.register(loginRoutes);
  await app.register(twoFactorRoutes);
  await app.register(sessionRoutes);
  await app.register(passwordRoutes);
  await app.register(changePasswordRoutes);
}
