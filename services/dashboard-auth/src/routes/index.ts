import type { FastifyInstance } from "fastify";
import auditRoutes from "./audit-events";
import loginRoutes from "./auth/login";
import passwordRoutes from "./auth/passwords";
import registrationRoutes from "./auth/registration";
import sessionRoutes from "./auth/sessions";
import twoFactorRoutes from "./auth/two-factor";
import bankRoutes from "./banks";
import { guardRoutes } from "./guard";
import moduleRoutes from "./modules";
import organizationRoutes, { approvalRoutes, credentialRoutes } from "./organizations";
import roleRoutes from "./roles";
import scopeRoutes from "./scopes";
import changePasswordRoutes from "./users/change-password";
import userRoutes from "./users/users";

/** Every `/v1` route of dashboard-auth, each guarded by the access it declares unless it is public. */
export default async function routes(app: FastifyInstance) {
  guardRoutes(app);
  await app.register(registrationRoutes);
  await app.register(loginRoutes);
  await app.register(twoFactorRoutes);
  await app.register(sessionRoutes);
  await app.register(passwordRoutes);
  await app.register(changePasswordRoutes);
  await app.register(userRoutes);
  await app.register(roleRoutes);
  await app.register(moduleRoutes);
  await app.register(organizationRoutes);
  await app.register(credentialRoutes);
  await app.register(approvalRoutes);
  await app.register(bankRoutes);
  await app.register(scopeRoutes);
  await app.register(auditRoutes);
}
