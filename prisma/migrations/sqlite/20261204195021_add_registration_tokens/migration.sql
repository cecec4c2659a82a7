-- CreateTable
CREATE TABLE "registration_tokens" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "uses_left" INTEGER,
    "expires_at" DATETIME,
    "created_at" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "created_by" TEXT
);

-- CreateIndex
CREATE INDEX "registration_tokens_expires_at_idx" ON "registration_tokens"("expires_at");
