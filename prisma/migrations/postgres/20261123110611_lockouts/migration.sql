-- AlterTable
ALTER TABLE "users" DROP COLUMN "failed_attempts",
DROP COLUMN "lock_count",
DROP COLUMN "locked_until";

-- CreateTable
CREATE TABLE "lockouts" (
    "key" TEXT NOT NULL,
    "failed_attempts" INTEGER NOT NULL DEFAULT 0,
    "lock_count" INTEGER NOT NULL DEFAULT 0,
    "locked_until" TIMESTAMP(3),
    "expires_at" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "lockouts_pkey" PRIMARY KEY ("key")
);

-- CreateIndex
CREATE INDEX "lockouts_expires_at_idx" ON "lockouts"("expires_at");
