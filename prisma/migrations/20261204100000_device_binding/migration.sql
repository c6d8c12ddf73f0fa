-- DPoP proofs already accepted, refused if they come again while still fresh.
CREATE TABLE "used_proofs" (
  "key" TEXT NOT NULL,
  "expiresAt" TIMESTAMPTZ(3) NOT NULL,
  CONSTRAINT "used_proofs_pkey" PRIMARY KEY ("key")
);
CREATE INDEX "used_proofs_expiresAt_idx" ON "used_proofs"("expiresAt");
