-- RedefineTables
PRAGMA defer_foreign_keys=ON;
PRAGMA foreign_keys=OFF;
CREATE TABLE "new_resource_servers" (
    "identifier" TEXT NOT NULL PRIMARY KEY,
    "scope" TEXT NOT NULL,
    "format" TEXT NOT NULL DEFAULT 'jwt',
    "ttl" INTEGER NOT NULL DEFAULT 3600,
    "claims" TEXT NOT NULL DEFAULT '',
    "scope_roles" TEXT NOT NULL DEFAULT '{}',
    "machines_only" BOOLEAN NOT NULL DEFAULT false,
    "created_at" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP
);
INSERT INTO "new_resource_servers" ("claims", "created_at", "format", "identifier", "scope", "ttl") SELECT "claims", "created_at", "format", "identifier", "scope", "ttl" FROM "resource_servers";
DROP TABLE "resource_servers";
ALTER TABLE "new_resource_servers" RENAME TO "resource_servers";
PRAGMA foreign_keys=ON;
PRAGMA defer_foreign_keys=OFF;
