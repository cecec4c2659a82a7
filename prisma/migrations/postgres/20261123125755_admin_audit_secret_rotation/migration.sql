-- AlterTable
ALTER TABLE "audit_events" ADD COLUMN     "actor" TEXT,
ADD COLUMN     "bucket" TEXT,
ADD COLUMN     "count" INTEGER,
ADD COLUMN     "target" TEXT;

-- AlterTable
ALTER TABLE "clients" ADD COLUMN     "previous_secret_expires_at" TIMESTAMP(3),
ADD COLUMN     "previous_secret_hash" TEXT,
ADD COLUMN     "secret_created_at" TIMESTAMP(3);

-- CreateIndex
CREATE UNIQUE INDEX "audit_events_bucket_key" ON "audit_events"("bucket");

-- CreateIndex
CREATE INDEX "audit_events_client_id_at_idx" ON "audit_events"("client_id", "at");

-- CreateIndex
CREATE INDEX "audit_events_type_at_idx" ON "audit_events"("type", "at");
