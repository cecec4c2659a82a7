-- AlterTable
ALTER TABLE "oidc_payloads" ADD COLUMN "client_id" TEXT;

-- CreateIndex
CREATE INDEX "oidc_payloads_client_id_idx" ON "oidc_payloads"("client_id");
