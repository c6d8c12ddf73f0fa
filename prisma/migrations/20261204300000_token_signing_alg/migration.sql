-- The algorithm an organization's partner and end-user tokens are signed with: EdDSA by default, RS256 or
-- ES256 for partners whose JWT libraries lack EdDSA.
ALTER TABLE "tenants" ADD COLUMN "tokenSigningAlg" TEXT NOT NULL DEFAULT 'EdDSA';
ALTER TABLE "tenants" ADD CONSTRAINT "tenants_tokenSigningAlg_check" CHECK ("tokenSigningAlg" IN ('EdDSA', 'RS256', 'ES256'));
