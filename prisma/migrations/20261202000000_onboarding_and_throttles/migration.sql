-- Onboarding: tenants that registered themselves wait for approval; banks choose which catalogue scopes
-- their organizations may hold; the platform owner keeps the scope catalogue.
ALTER TYPE "TenantStatus" ADD VALUE IF NOT EXISTS 'PENDING';

ALTER TABLE "tenants"
  ADD COLUMN "organizationScopes" JSONB,
  ADD COLUMN "organizationSelfRegistration" BOOLEAN NOT NULL DEFAULT false;

CREATE TABLE "scopes" (
  "id" TEXT NOT NULL,
  "name" TEXT NOT NULL,
  "description" TEXT NOT NULL,
  "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
  "updatedAt" TIMESTAMPTZ(3) NOT NULL,
  CONSTRAINT "scopes_pkey" PRIMARY KEY ("id")
);
CREATE UNIQUE INDEX "scopes_name_key" ON "scopes"("name");

INSERT INTO "scopes" ("id", "name", "description", "updatedAt") VALUES
  ('scp_read_bills', 'read_bills', 'Read bills', CURRENT_TIMESTAMP),
  ('scp_read_packs', 'read_packs', 'Read packs', CURRENT_TIMESTAMP),
  ('scp_otp', 'otp', 'Sign in end users with one-time codes', CURRENT_TIMESTAMP)
ON CONFLICT ("name") DO NOTHING;

-- The modules that guard the new bank and scope routes.
INSERT INTO "modules" ("id", "name", "slug", "createdAt", "updatedAt") VALUES
  ('mod_platform_banks', 'Banks', 'banks', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP),
  ('mod_platform_scopes', 'Scopes', 'scopes', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)
ON CONFLICT ("slug") DO NOTHING;

-- Password guessing is gated per (account, address) and per account by attempt gates, not by a lock on
-- the user row that anyone could trigger.
CREATE TABLE "attempt_gates" (
  "key" TEXT NOT NULL,
  "attempts" INTEGER NOT NULL DEFAULT 0,
  "nextAttemptAt" TIMESTAMPTZ(3) NOT NULL,
  "updatedAt" TIMESTAMPTZ(3) NOT NULL,
  CONSTRAINT "attempt_gates_pkey" PRIMARY KEY ("key")
);
CREATE INDEX "attempt_gates_updatedAt_idx" ON "attempt_gates"("updatedAt");

ALTER TABLE "users" DROP COLUMN "failedLoginCount", DROP COLUMN "lockedUntil";

-- A row that can never be published is parked so the rows behind it keep flowing.
ALTER TABLE "outbox_events" ADD COLUMN "parkedAt" TIMESTAMPTZ(3);
