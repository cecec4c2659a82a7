-- Each partial index is built beside the one it replaces, and takes its name
-- after that one is dropped: stopped part-way, the migration leaves both
-- columns indexed, and run again it ends the same.

-- DropIndex
DROP INDEX IF EXISTS "oidc_payloads_consumed_at_idx";

-- CreateIndex
CREATE INDEX IF NOT EXISTS "oidc_payloads_uid_partial_idx" ON "oidc_payloads"("uid") WHERE (uid IS NOT NULL);
DROP INDEX IF EXISTS "oidc_payloads_uid_idx";
ALTER INDEX "oidc_payloads_uid_partial_idx" RENAME TO "oidc_payloads_uid_idx";

-- CreateIndex
CREATE INDEX IF NOT EXISTS "oidc_payloads_user_code_partial_idx" ON "oidc_payloads"("user_code") WHERE (user_code IS NOT NULL);
DROP INDEX IF EXISTS "oidc_payloads_user_code_idx";
ALTER INDEX "oidc_payloads_user_code_partial_idx" RENAME TO "oidc_payloads_user_code_idx";
