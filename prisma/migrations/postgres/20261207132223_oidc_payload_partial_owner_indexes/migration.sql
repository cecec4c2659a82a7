-- Each partial index is built beside the one it replaces, and takes its name
-- after that one is dropped: stopped part-way, the migration leaves every
-- column indexed, and run again it ends the same.

-- CreateIndex
CREATE INDEX IF NOT EXISTS "oidc_payloads_account_id_type_partial_idx" ON "oidc_payloads"("account_id", "type") WHERE (account_id IS NOT NULL);
DROP INDEX IF EXISTS "oidc_payloads_account_id_type_idx";
ALTER INDEX "oidc_payloads_account_id_type_partial_idx" RENAME TO "oidc_payloads_account_id_type_idx";

-- CreateIndex
CREATE INDEX IF NOT EXISTS "oidc_payloads_client_id_partial_idx" ON "oidc_payloads"("client_id") WHERE (client_id IS NOT NULL);
DROP INDEX IF EXISTS "oidc_payloads_client_id_idx";
ALTER INDEX "oidc_payloads_client_id_partial_idx" RENAME TO "oidc_payloads_client_id_idx";

-- CreateIndex
CREATE INDEX IF NOT EXISTS "oidc_payloads_grant_id_partial_idx" ON "oidc_payloads"("grant_id") WHERE (grant_id IS NOT NULL);
DROP INDEX IF EXISTS "oidc_payloads_grant_id_idx";
ALTER INDEX "oidc_payloads_grant_id_partial_idx" RENAME TO "oidc_payloads_grant_id_idx";
