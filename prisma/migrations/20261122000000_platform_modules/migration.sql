-- The modules that dashboard-auth's own management routes are guarded by. Other modules (wallets,
-- settlements, refunds, …) are added by the platform owner through the modules API.
INSERT INTO "modules" ("id", "name", "slug", "createdAt", "updatedAt") VALUES
  ('mod_platform_users', 'Users', 'users', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP),
  ('mod_platform_roles', 'Roles', 'roles', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP),
  ('mod_platform_modules', 'Modules', 'modules', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP),
  ('mod_platform_organizations', 'Organizations', 'organizations', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP),
  ('mod_platform_audit_events', 'Audit events', 'audit-events', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)
ON CONFLICT ("slug") DO NOTHING;
