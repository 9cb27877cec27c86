-- AlterTable
ALTER TABLE "catalog_models" ADD COLUMN     "cache_write_1h_price" BIGINT;

-- AlterTable
ALTER TABLE "request_logs" ADD COLUMN     "cache_write_1h_tokens" INTEGER NOT NULL DEFAULT 0;
