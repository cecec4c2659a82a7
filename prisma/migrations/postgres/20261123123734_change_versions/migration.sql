-- CreateTable
CREATE TABLE "change_versions" (
    "name" TEXT NOT NULL,
    "version" INTEGER NOT NULL DEFAULT 0,

    CONSTRAINT "change_versions_pkey" PRIMARY KEY ("name")
);

-- The kinds of configuration nodes cache.
INSERT INTO "change_versions" ("name", "version") VALUES ('clients', 0), ('resources', 0);
