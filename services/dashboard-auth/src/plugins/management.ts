import type { FastifyInstance } from "fastify";
import fp from "fastify-plugin";
import type { DashboardConfig } from "../config";
import { Banks } from "../features/banks/banks";
import { Catalogue } from "../features/catalogue/catalogue";
import { Organizations } from "../features/organizations/organizations";
import { ScopeCatalogue } from "../features/scopes/scopes";
import { UserAdmin } from "../features/users/users";

declare module "fastify" {
  interface FastifyInstance {
    users: UserAdmin;
    catalogue: Catalogue;
    organizations: Organizations;
    banks: Banks;
    scopes: ScopeCatalogue;
  }
}

/** The tenant-management services: users, roles and modules, organizations, banks and the scope catalogue. */
export const managementPlugin = fp(
  async (app: FastifyInstance, { config }: { config: DashboardConfig }) => {
    app.decorate("users", new UserAdmin(app.db, app.passwords, app.sessions));
    app.decorate("catalogue", new Catalogue(app.db, app.sessionView));
    app.decorate("organizations", new Organizations(app.db, config.CREDENTIAL_GRACE_MAX_SECONDS, app.sessionView));
    app.decorate("banks", new Banks(app.db, app.passwords, app.mailer, config.DASHBOARD_UI_URL));
    app.decorate("scopes", new ScopeCatalogue(app.db));
  },
  { name: "management", dependencies: ["identity", "access"] },
);
