-- A month close fans out: its tenants are cut into chunks, one pg-boss job each. The chunk plan is
-- recorded with the jobs in one transaction; each chunk records its outcomes in the transaction
-- that writes its invoices; the last chunk to finish adds them up into the run's summary.
ALTER TABLE "month_close_runs" ADD COLUMN "heartbeat_at" TIMESTAMPTZ(3);
ALTER TABLE "month_close_runs" ADD COLUMN "plan" JSONB;

CREATE TABLE "month_close_chunks" (
    "run_id" UUID NOT NULL,
    "chunk_no" INTEGER NOT NULL,
    "tenant_ids" UUID[] NOT NULL,
    "status" TEXT NOT NULL DEFAULT 'queued',
    "summary" JSONB,
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "finished_at" TIMESTAMPTZ(3),

    CONSTRAINT "month_close_chunks_pkey" PRIMARY KEY ("run_id", "chunk_no"),
    CONSTRAINT "month_close_chunks_status_check" CHECK ("status" IN ('queued', 'done'))
);
ALTER TABLE "month_close_chunks" ADD CONSTRAINT "month_close_chunks_run_id_fkey" FOREIGN KEY ("run_id") REFERENCES "month_close_runs"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- billableTenantIds and the late-usage count find tenants with LLM usage by the period alone (no
-- tenant or deployment to seek by): without this index that is a sequential scan of every event
-- ever recorded. EXPLAIN on the benchmark database (10,000 tenants, 1,000,000 events), for a range
-- holding a tenth of the table (as one month does in a table of ten):
--   HashAggregate  Group Key: (tenant_id)::text
--     ->  Bitmap Heap Scan on llm_usage_events e
--           ->  Bitmap Index Scan on llm_usage_events_occurred_at_tenant_id_idx
--                 Index Cond: ((occurred_at >= '2026-04-01') AND (occurred_at < '2026-04-04'))
-- (When the table holds only the one month, the planner rightly reads it all, in parallel.)
CREATE INDEX "llm_usage_events_occurred_at_tenant_id_idx" ON "llm_usage_events"("occurred_at", "tenant_id");
