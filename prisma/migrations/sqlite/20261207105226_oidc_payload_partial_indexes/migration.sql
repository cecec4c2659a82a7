-- DropIndex
DROP INDEX "oidc_payloads_consumed_at_idx";

-- DropIndex
DROP INDEX "oidc_payloads_user_code_idx";

-- DropIndex
DROP INDEX "oidc_payloads_uid_idx";

-- CreateIndex
CREATE INDEX "oidc_payloads_uid_idx" ON "oidc_payloads"("uid") WHERE uid IS NOT NULL;

-- CreateIndex
CREATE INDEX "oidc_payloads_user_code_idx" ON "oidc_payloads"("user_code") WHERE user_code IS NOT NULL;
