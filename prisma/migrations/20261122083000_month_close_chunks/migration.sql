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

-- billableTenantIds finds LLM-only tenants by the period alone (no tenant or deployment to seek
-- by): without this index that part is a sequential scan of every event ever recorded.
-- EXPLAIN (2,000 tenants, 200,000 April events plus other months), after:
--   HashAggregate  Group Key: e.tenant_id
--     ->  Index Only Scan using llm_usage_events_occurred_at_tenant_id_idx on llm_usage_events e
--           Index Cond: ((occurred_at >= '2026-04-01 ...') AND (occurred_at < '2026-05-01 ...'))
CREATE INDEX "llm_usage_events_occurred_at_tenant_id_idx" ON "llm_usage_events"("occurred_at", "tenant_id");
