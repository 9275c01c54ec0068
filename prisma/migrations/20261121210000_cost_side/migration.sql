-- CreateEnum
CREATE TYPE "cost_ingest_status" AS ENUM ('pending', 'ingested', 'failed');

-- CreateEnum
CREATE TYPE "vendor_bill_push_status" AS ENUM ('pending', 'pushed', 'skipped', 'failed');

-- CreateTable
CREATE TABLE "balance_snapshots" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "month_to_date_balance" DECIMAL(20,6) NOT NULL,
    "account_balance" DECIMAL(20,6) NOT NULL,
    "month_to_date_usage" DECIMAL(20,6) NOT NULL,
    "generated_at" TIMESTAMPTZ(3) NOT NULL,
    "fetched_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "balance_snapshots_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "provider_invoices" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "invoice_uuid" TEXT NOT NULL,
    "invoice_id" TEXT NOT NULL,
    "period" TIMESTAMPTZ(3) NOT NULL,
    "amount" DECIMAL(20,6) NOT NULL,
    "description" TEXT NOT NULL,
    "date" TIMESTAMPTZ(3) NOT NULL,
    "ingest_status" "cost_ingest_status" NOT NULL DEFAULT 'pending',
    "ingested_at" TIMESTAMPTZ(3),
    "line_count" INTEGER,
    "matched_count" INTEGER,
    "csv_checksum" TEXT,
    "lines_total" DECIMAL(20,6),
    "amount_mismatch" BOOLEAN NOT NULL DEFAULT false,
    "last_error" TEXT,
    "push_status" "vendor_bill_push_status" NOT NULL DEFAULT 'pending',
    "pushed_to_finance_at" TIMESTAMPTZ(3),
    "finance_invoice_id" TEXT,
    "finance_action" TEXT,
    "push_error" TEXT,
    "pushed_checksum" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "provider_invoices_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "provider_invoices_period_check" CHECK ("period" = (date_trunc('month', "period" AT TIME ZONE 'UTC') AT TIME ZONE 'UTC')),
    CONSTRAINT "provider_invoices_counts_check" CHECK ("line_count" >= 0 AND "matched_count" >= 0 AND "matched_count" <= "line_count"),
    CONSTRAINT "provider_invoices_finance_action_check" CHECK ("finance_action" IN ('created', 'updated'))
);

-- CreateTable
CREATE TABLE "cost_lines" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "provider_invoice_id" UUID NOT NULL,
    "row_number" INTEGER NOT NULL,
    "product" TEXT NOT NULL,
    "group_description" TEXT NOT NULL,
    "description" TEXT NOT NULL,
    "hours" DECIMAL(30,12),
    "period_start" TIMESTAMPTZ(3),
    "period_end" TIMESTAMPTZ(3),
    "usd_raw" TEXT NOT NULL,
    "project_name" TEXT NOT NULL,
    "category" TEXT NOT NULL,
    "fields" JSONB NOT NULL,
    "amount_micros" BIGINT NOT NULL,
    "kind" TEXT NOT NULL,
    "resource_name" TEXT,
    "cloud_resource_id" UUID,
    "deployment_id" UUID,

    CONSTRAINT "cost_lines_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "cost_lines_row_number_check" CHECK ("row_number" >= 1),
    CONSTRAINT "cost_lines_kind_check" CHECK ("kind" IN ('droplet', 'volume', 'snapshot', 'spaces', 'floating_ip', 'load_balancer', 'kubernetes', 'database', 'tax', 'other'))
);

-- CreateIndex
CREATE INDEX "balance_snapshots_fetched_at_idx" ON "balance_snapshots"("fetched_at");

-- CreateIndex
CREATE UNIQUE INDEX "provider_invoices_invoice_uuid_key" ON "provider_invoices"("invoice_uuid");

-- CreateIndex
CREATE INDEX "provider_invoices_period_idx" ON "provider_invoices"("period");

-- CreateIndex
CREATE INDEX "cost_lines_cloud_resource_id_idx" ON "cost_lines"("cloud_resource_id");

-- CreateIndex
CREATE INDEX "cost_lines_deployment_id_idx" ON "cost_lines"("deployment_id");

-- CreateIndex
CREATE UNIQUE INDEX "cost_lines_provider_invoice_id_row_number_key" ON "cost_lines"("provider_invoice_id", "row_number");

-- AddForeignKey
ALTER TABLE "cost_lines" ADD CONSTRAINT "cost_lines_provider_invoice_id_fkey" FOREIGN KEY ("provider_invoice_id") REFERENCES "provider_invoices"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "cost_lines" ADD CONSTRAINT "cost_lines_cloud_resource_id_fkey" FOREIGN KEY ("cloud_resource_id") REFERENCES "cloud_resources"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "cost_lines" ADD CONSTRAINT "cost_lines_deployment_id_fkey" FOREIGN KEY ("deployment_id") REFERENCES "deployments"("id") ON DELETE SET NULL ON UPDATE CASCADE;
