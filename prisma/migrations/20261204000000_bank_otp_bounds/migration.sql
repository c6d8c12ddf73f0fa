-- A bank's bounds on its organizations' one-time-code settings; null keeps them to the platform's limits.
ALTER TABLE "tenants" ADD COLUMN "organizationOtp" JSONB;
