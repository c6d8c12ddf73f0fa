-- End-user sign-in with one-time codes: each organization's settings, the delivery state of a code, and
-- the counters behind the send limits (shared by every api-auth instance).
ALTER TABLE "tenants" ADD COLUMN "otpSettings" JSONB;

CREATE TYPE "OtpDeliveryStatus" AS ENUM ('QUEUED', 'SENT', 'FAILED');
-- SIGN_IN: a code that signs a person in; CONTACT_CHANGE: a code to a person's new phone or email, usable
-- only by that person; NOTICE: no code, a message to a person's old contact that it was replaced.
CREATE TYPE "OtpPurpose" AS ENUM ('SIGN_IN', 'CONTACT_CHANGE', 'NOTICE');

ALTER TABLE "otp_challenges"
  ADD COLUMN "deliveryStatus" "OtpDeliveryStatus" NOT NULL DEFAULT 'QUEUED',
  ADD COLUMN "deliveryAttempts" INTEGER NOT NULL DEFAULT 0,
  ADD COLUMN "deliveryError" TEXT,
  ADD COLUMN "sentAt" TIMESTAMPTZ(3),
  ADD COLUMN "deliveryLeaseUntil" TIMESTAMPTZ(3),
  ADD COLUMN "codeEncrypted" TEXT,
  ADD COLUMN "purpose" "OtpPurpose" NOT NULL DEFAULT 'SIGN_IN',
  ADD COLUMN "endUserId" TEXT,
  ADD CONSTRAINT "otp_challenges_endUserId_fkey" FOREIGN KEY ("endUserId") REFERENCES "end_users"("id")
    ON DELETE CASCADE ON UPDATE CASCADE;

-- One row per limit and window: a send takes one from each, in the send's own transaction.
CREATE TABLE "send_counters" (
  "key" TEXT NOT NULL,
  "windowStart" TIMESTAMPTZ(3) NOT NULL,
  "count" INTEGER NOT NULL DEFAULT 0,
  CONSTRAINT "send_counters_pkey" PRIMARY KEY ("key", "windowStart")
);
CREATE INDEX "send_counters_windowStart_idx" ON "send_counters"("windowStart");
