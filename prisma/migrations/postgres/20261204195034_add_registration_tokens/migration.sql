-- CreateTable
CREATE TABLE "registration_tokens" (
    "id" TEXT NOT NULL,
    "uses_left" INTEGER,
    "expires_at" TIMESTAMP(3),
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "created_by" TEXT,

    CONSTRAINT "registration_tokens_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "registration_tokens_expires_at_idx" ON "registration_tokens"("expires_at");
