-- AlterTable
ALTER TABLE "request_logs" ADD COLUMN     "route_decisions" TEXT[] DEFAULT ARRAY[]::TEXT[];
