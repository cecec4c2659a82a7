-- AlterTable
ALTER TABLE "resource_servers" ADD COLUMN     "machines_only" BOOLEAN NOT NULL DEFAULT false,
ADD COLUMN     "scope_roles" TEXT NOT NULL DEFAULT '{}';
