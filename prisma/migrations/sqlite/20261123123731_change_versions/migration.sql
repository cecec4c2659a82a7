-- CreateTable
CREATE TABLE "change_versions" (
    "name" TEXT NOT NULL PRIMARY KEY,
    "version" INTEGER NOT NULL DEFAULT 0
);

-- The kinds of configuration nodes cache.
INSERT INTO "change_versions" ("name", "version") VALUES ('clients', 0), ('resources', 0);
