-- AlterTable
ALTER TABLE "request_logs" ADD COLUMN     "pricing" JSONB;
