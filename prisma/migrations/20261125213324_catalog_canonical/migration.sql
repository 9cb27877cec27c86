-- AlterTable
ALTER TABLE "catalog_models" ADD COLUMN     "canonical_id" TEXT;
