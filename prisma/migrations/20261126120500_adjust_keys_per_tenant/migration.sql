-- Operators' adjustments are keyed per tenant from now on (adjust:<tenant>:<Idempotency-Key>).
-- Entries written before keep working as replays: their keys move to the new form, which is
-- unique because the old keys were unique across all tenants.
UPDATE "ledger_entries"
SET "idempotency_key" = 'adjust:' || "tenant_id" || ':' || substr("idempotency_key", 8)
WHERE "idempotency_key" LIKE 'adjust:%';
