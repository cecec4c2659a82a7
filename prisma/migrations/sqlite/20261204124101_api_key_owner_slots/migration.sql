-- AlterTable
ALTER TABLE "api_keys" ADD COLUMN "slot" INTEGER;

-- CreateIndex
CREATE UNIQUE INDEX "api_keys_user_id_slot_key" ON "api_keys"("user_id", "slot");

-- CreateIndex
CREATE UNIQUE INDEX "api_keys_client_id_slot_key" ON "api_keys"("client_id", "slot");

-- Every key not revoked takes a place of its owner's, in the order they were
-- made (an expired one gives its place back when its owner next makes a key).
UPDATE "api_keys" SET "slot" = (
    SELECT COUNT(*) FROM "api_keys" AS "o"
    WHERE "o"."user_id" = "api_keys"."user_id" AND "o"."revoked_at" IS NULL
      AND ("o"."created_at" < "api_keys"."created_at" OR ("o"."created_at" = "api_keys"."created_at" AND "o"."id" < "api_keys"."id"))
) WHERE "user_id" IS NOT NULL AND "revoked_at" IS NULL;
UPDATE "api_keys" SET "slot" = (
    SELECT COUNT(*) FROM "api_keys" AS "o"
    WHERE "o"."client_id" = "api_keys"."client_id" AND "o"."revoked_at" IS NULL
      AND ("o"."created_at" < "api_keys"."created_at" OR ("o"."created_at" = "api_keys"."created_at" AND "o"."id" < "api_keys"."id"))
) WHERE "client_id" IS NOT NULL AND "revoked_at" IS NULL;
