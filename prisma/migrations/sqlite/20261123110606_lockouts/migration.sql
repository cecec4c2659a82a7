-- CreateTable
CREATE TABLE "lockouts" (
    "key" TEXT NOT NULL PRIMARY KEY,
    "failed_attempts" INTEGER NOT NULL DEFAULT 0,
    "lock_count" INTEGER NOT NULL DEFAULT 0,
    "locked_until" DATETIME,
    "expires_at" DATETIME NOT NULL
);

-- RedefineTables
PRAGMA defer_foreign_keys=ON;
PRAGMA foreign_keys=OFF;
CREATE TABLE "new_users" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "email" TEXT NOT NULL,
    "email_verified" BOOLEAN NOT NULL DEFAULT false,
    "name" TEXT,
    "password_hash" TEXT NOT NULL,
    "disabled" BOOLEAN NOT NULL DEFAULT false,
    "created_at" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" DATETIME NOT NULL,
    "totp_secret_enc" TEXT,
    "totp_pending_enc" TEXT,
    "totp_enabled_at" DATETIME,
    "totp_last_step" INTEGER
);
INSERT INTO "new_users" ("created_at", "disabled", "email", "email_verified", "id", "name", "password_hash", "totp_enabled_at", "totp_last_step", "totp_pending_enc", "totp_secret_enc", "updated_at") SELECT "created_at", "disabled", "email", "email_verified", "id", "name", "password_hash", "totp_enabled_at", "totp_last_step", "totp_pending_enc", "totp_secret_enc", "updated_at" FROM "users";
DROP TABLE "users";
ALTER TABLE "new_users" RENAME TO "users";
CREATE UNIQUE INDEX "users_email_key" ON "users"("email");
PRAGMA foreign_keys=ON;
PRAGMA defer_foreign_keys=OFF;

-- CreateIndex
CREATE INDEX "lockouts_expires_at_idx" ON "lockouts"("expires_at");
