-- AlterTable
ALTER TABLE "clients" ADD COLUMN "previous_shared_secret_enc" TEXT;
ALTER TABLE "clients" ADD COLUMN "previous_shared_secret_expires_at" DATETIME;

-- AlterTable
ALTER TABLE "users" ADD COLUMN "password_scheme" TEXT;

-- CreateTable
CREATE TABLE "roles" (
    "name" TEXT NOT NULL PRIMARY KEY,
    "description" TEXT NOT NULL DEFAULT '',
    "created_at" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP
);

-- AlterTable (a column with a constant default: no need to copy the table)
ALTER TABLE "api_keys" ADD COLUMN "origin" TEXT NOT NULL DEFAULT 'latchkey';

-- CreateIndex
CREATE INDEX "users_password_scheme_idx" ON "users"("password_scheme");

-- Kinds of change other nodes cache: imported password schemes, imported API keys
INSERT INTO "change_versions" ("name", "version") VALUES ('password_schemes', 0), ('api_keys', 0);
