-- A sign-in code carries the id its person gets on a first sign-in and the destination encrypted for
-- that person: verification uses the code and signs the person in with one statement. Codes sent before
-- this change lack them and no longer verify (they expired within ten minutes anyway).
ALTER TABLE "otp_challenges" ADD COLUMN "newEndUserId" TEXT, ADD COLUMN "newEndUserEncrypted" TEXT;
