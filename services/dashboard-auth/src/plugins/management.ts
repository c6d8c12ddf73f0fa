import type { FastifyInstance } from "fastify";
import fp from "fastify-plugin";
import { Catalogue } from "../domain/catalogue";
import { Organizations } from "../domain/organizations";
import { UserAdmin } from "../domain/users";

declare module "fastify" {
  interface FastifyInstance {
    users: UserAdmin;
    catalogue: Catalogue;
    organizations: Organizations;
  }
}

/** The tenant-management services: users, roles and modules, organizations. */
export const managementPlugin = fp(
  async (app: FastifyInstance) => {
    app.decorate("users", new UserAdmin(app.db, app.passwords, app.sessions));
    app.decorate("catalogue", new Catalogue(app.db));
    app.decorate("organizations", new Organizations(app.db));
  },
  { name: "management", dependencies: ["identity", "access"] },
);
