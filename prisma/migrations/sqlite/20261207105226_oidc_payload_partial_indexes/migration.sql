-- Run again after a stop part-way, it ends the same.

-- DropIndex
DROP INDEX IF EXISTS "oidc_payloads_consumed_at_idx";

-- DropIndex
DROP INDEX IF EXISTS "oidc_payloads_user_code_idx";

-- DropIndex
DROP INDEX IF EXISTS "oidc_payloads_uid_idx";

-- CreateIndex
CREATE INDEX IF NOT EXISTS "oidc_payloads_uid_idx" ON "oidc_payloads"("uid") WHERE uid IS NOT NULL;

-- CreateIndex
CREATE INDEX IF NOT EXISTS "oidc_payloads_user_code_idx" ON "oidc_payloads"("user_code") WHERE user_code IS NOT NULL;
