-- AlterTable
ALTER TABLE "tenants" ADD COLUMN     "platform_caps" JSONB;
