-- One transaction: stopped part-way, the migration leaves the old indexes as
-- they were (never a column without one), and run again it ends the same.
BEGIN;

-- DropIndex
DROP INDEX IF EXISTS "oidc_payloads_client_id_idx";

-- DropIndex
DROP INDEX IF EXISTS "oidc_payloads_account_id_type_idx";

-- DropIndex
DROP INDEX IF EXISTS "oidc_payloads_grant_id_idx";

-- CreateIndex
CREATE INDEX IF NOT EXISTS "oidc_payloads_account_id_type_idx" ON "oidc_payloads"("account_id", "type") WHERE account_id IS NOT NULL;

-- CreateIndex
CREATE INDEX IF NOT EXISTS "oidc_payloads_client_id_idx" ON "oidc_payloads"("client_id") WHERE client_id IS NOT NULL;

-- CreateIndex
CREATE INDEX IF NOT EXISTS "oidc_payloads_grant_id_idx" ON "oidc_payloads"("grant_id") WHERE grant_id IS NOT NULL;

COMMIT;
