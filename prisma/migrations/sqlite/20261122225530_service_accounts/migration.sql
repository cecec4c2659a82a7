-- CreateTable
CREATE TABLE "client_keys" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "client_id" TEXT NOT NULL,
    "kid" TEXT NOT NULL,
    "alg" TEXT NOT NULL,
    "public_jwk" TEXT NOT NULL,
    "expires_at" DATETIME,
    "created_at" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "client_keys_client_id_fkey" FOREIGN KEY ("client_id") REFERENCES "clients" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "resource_servers" (
    "identifier" TEXT NOT NULL PRIMARY KEY,
    "scope" TEXT NOT NULL,
    "format" TEXT NOT NULL DEFAULT 'jwt',
    "ttl" INTEGER NOT NULL DEFAULT 3600,
    "created_at" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP
);

-- RedefineTables
PRAGMA defer_foreign_keys=ON;
PRAGMA foreign_keys=OFF;
CREATE TABLE "new_clients" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "kind" TEXT NOT NULL DEFAULT 'app',
    "name" TEXT NOT NULL,
    "secret_hash" TEXT,
    "shared_secret_enc" TEXT,
    "metadata" TEXT NOT NULL,
    "disabled" BOOLEAN NOT NULL DEFAULT false,
    "created_at" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" DATETIME NOT NULL
);
INSERT INTO "new_clients" ("created_at", "disabled", "id", "metadata", "name", "secret_hash", "updated_at") SELECT "created_at", "disabled", "id", "metadata", "name", "secret_hash", "updated_at" FROM "clients";
DROP TABLE "clients";
ALTER TABLE "new_clients" RENAME TO "clients";
PRAGMA foreign_keys=ON;
PRAGMA defer_foreign_keys=OFF;

-- CreateIndex
CREATE UNIQUE INDEX "client_keys_client_id_kid_key" ON "client_keys"("client_id", "kid");
