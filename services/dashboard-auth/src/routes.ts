import type { FastifyInstance } from "fastify";
import { guardRoutes } from "./access/guard";
import auditRoutes from "./features/audit/routes";
import bankRoutes from "./features/banks/routes";
import moduleRoutes from "./features/catalogue/modules.routes";
import roleRoutes from "./features/catalogue/roles.routes";
import organizationRoutes, { approvalRoutes, credentialRoutes } from "./features/organizations/routes";
import changePasswordRoutes from "./features/passwords/change.routes";
import passwordRoutes from "./features/passwords/reset.routes";
import scopeRoutes from "./features/scopes/routes";
import sessionRoutes from "./features/sessions/routes";
import loginRoutes from "./features/sign-in/login.routes";
import registrationRoutes from "./features/sign-in/registration.routes";
import twoFactorRoutes from "./features/two-factor/routes";
import userRoutes from "./features/users/routes";

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
