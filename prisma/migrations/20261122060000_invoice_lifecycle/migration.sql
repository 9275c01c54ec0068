-- Issue, deliver and correct tenant invoices: lifecycle with a status audit, gap-free document
-- numbers, adjustment notes, a receivables outbox, tenant billing details and effective-dated
-- tax profiles.

-- CreateEnum
CREATE TYPE "document_type" AS ENUM ('invoice', 'adjustment_note');

-- CreateEnum
CREATE TYPE "delivery_state" AS ENUM ('pending', 'delivered', 'failed', 'skipped');

-- Tenants: the details a tax invoice needs.
ALTER TABLE "tenants"
    ADD COLUMN "legal_name" TEXT,
    ADD COLUMN "abn" CHAR(11),
    ADD COLUMN "billing_email" TEXT,
    ADD COLUMN "billing_address" TEXT,
    ADD COLUMN "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP;

-- CreateTable: effective-dated tax profiles (a close uses the one in force at the end of the period).
CREATE TABLE "tenant_tax_profiles" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "tenant_id" UUID NOT NULL,
    "country" CHAR(2) NOT NULL,
    "gst_rate" DECIMAL(6,4) NOT NULL,
    "effective_from" TIMESTAMPTZ(3) NOT NULL,
    "created_by" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "tenant_tax_profiles_pkey" PRIMARY KEY ("id")
);
CREATE UNIQUE INDEX "tenant_tax_profiles_tenant_id_effective_from_key" ON "tenant_tax_profiles"("tenant_id", "effective_from");
ALTER TABLE "tenant_tax_profiles" ADD CONSTRAINT "tenant_tax_profiles_tenant_id_fkey" FOREIGN KEY ("tenant_id") REFERENCES "tenants"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- The tenant's profile so far becomes its first one, in force from the beginning of time.
INSERT INTO "tenant_tax_profiles" ("tenant_id", "country", "gst_rate", "effective_from", "created_by", "created_at")
SELECT "id", "tax_country", "tax_rate", TIMESTAMPTZ '1970-01-01 00:00:00+00', 'migration', "created_at" FROM "tenants";

ALTER TABLE "tenants" DROP COLUMN "tax_country", DROP COLUMN "tax_rate";

-- Tenant invoices: number, dates, payment, void, reissue, and the parties as billed.
ALTER TABLE "tenant_invoices"
    ADD COLUMN "number" TEXT,
    ADD COLUMN "tax_rate" DECIMAL(6,4),
    ADD COLUMN "issued_at" TIMESTAMPTZ(3),
    ADD COLUMN "due_at" TIMESTAMPTZ(3),
    ADD COLUMN "paid_at" TIMESTAMPTZ(3),
    ADD COLUMN "payment_reference" TEXT,
    ADD COLUMN "voided_at" TIMESTAMPTZ(3),
    ADD COLUMN "void_reason" TEXT,
    ADD COLUMN "replaces_invoice_id" UUID,
    ADD COLUMN "billed_to" JSONB,
    ADD COLUMN "supplier" JSONB;

UPDATE "tenant_invoices" SET "tax_rate" = ("inputs"->'tax'->>'rate')::numeric;
ALTER TABLE "tenant_invoices" ALTER COLUMN "tax_rate" SET NOT NULL;

CREATE UNIQUE INDEX "tenant_invoices_number_key" ON "tenant_invoices"("number");
-- At most one live invoice per tenant and period: a void one no longer counts, so a period can be reissued.
DROP INDEX "tenant_invoices_tenant_id_period_start_key";
CREATE UNIQUE INDEX "tenant_invoices_tenant_id_period_start_live_key" ON "tenant_invoices"("tenant_id", "period_start") WHERE "status" <> 'void';
CREATE INDEX "tenant_invoices_tenant_id_period_start_idx" ON "tenant_invoices"("tenant_id", "period_start");
ALTER TABLE "tenant_invoices" ADD CONSTRAINT "tenant_invoices_replaces_invoice_id_fkey" FOREIGN KEY ("replaces_invoice_id") REFERENCES "tenant_invoices"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
-- A draft has no number; an issued or paid invoice has its number and dates (a void one keeps what it had).
ALTER TABLE "tenant_invoices" ADD CONSTRAINT "tenant_invoices_number_check" CHECK (
    ("status" = 'draft' AND "number" IS NULL AND "issued_at" IS NULL)
 OR ("status" IN ('issued', 'paid') AND "number" IS NOT NULL AND "issued_at" IS NOT NULL AND "due_at" IS NOT NULL)
 OR "status" = 'void');

-- CreateTable: every status change of an invoice.
CREATE TABLE "invoice_status_changes" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "invoice_id" UUID NOT NULL,
    "from_status" "invoice_status",
    "to_status" "invoice_status" NOT NULL,
    "actor" TEXT NOT NULL,
    "reason" TEXT,
    "at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "invoice_status_changes_pkey" PRIMARY KEY ("id")
);
CREATE INDEX "invoice_status_changes_invoice_id_at_idx" ON "invoice_status_changes"("invoice_id", "at");
ALTER TABLE "invoice_status_changes" ADD CONSTRAINT "invoice_status_changes_invoice_id_fkey" FOREIGN KEY ("invoice_id") REFERENCES "tenant_invoices"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- CreateTable: gap-free document numbers, one counter row per series and calendar year of issue,
-- bumped (INSERT ... ON CONFLICT DO UPDATE ... RETURNING) inside the issuing transaction.
CREATE TABLE "document_number_counters" (
    "series" TEXT NOT NULL,
    "year" INTEGER NOT NULL,
    "last_value" BIGINT NOT NULL,

    CONSTRAINT "document_number_counters_pkey" PRIMARY KEY ("series", "year")
);

-- CreateTable: adjustment notes (GST Act Division 19): corrections of an issued or paid invoice.
CREATE TABLE "adjustment_notes" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "invoice_id" UUID NOT NULL,
    "tenant_id" UUID NOT NULL,
    "period_start" TIMESTAMPTZ(3) NOT NULL,
    "number" TEXT NOT NULL,
    "currency" CHAR(3) NOT NULL,
    "reason" TEXT NOT NULL,
    "tax_rate" DECIMAL(6,4) NOT NULL,
    "subtotal_delta_minor" BIGINT NOT NULL,
    "tax_delta_minor" BIGINT NOT NULL,
    "total_delta_minor" BIGINT NOT NULL,
    "inputs" JSONB NOT NULL,
    "inputs_hash" TEXT NOT NULL,
    "run_id" UUID,
    "created_by" TEXT NOT NULL,
    "issued_at" TIMESTAMPTZ(3) NOT NULL,
    "billed_to" JSONB NOT NULL,
    "supplier" JSONB NOT NULL,

    CONSTRAINT "adjustment_notes_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "adjustment_notes_total_check" CHECK ("total_delta_minor" = "subtotal_delta_minor" + "tax_delta_minor")
);
CREATE UNIQUE INDEX "adjustment_notes_number_key" ON "adjustment_notes"("number");
CREATE INDEX "adjustment_notes_invoice_id_idx" ON "adjustment_notes"("invoice_id");
CREATE INDEX "adjustment_notes_tenant_id_period_start_idx" ON "adjustment_notes"("tenant_id", "period_start");
ALTER TABLE "adjustment_notes" ADD CONSTRAINT "adjustment_notes_invoice_id_fkey" FOREIGN KEY ("invoice_id") REFERENCES "tenant_invoices"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
ALTER TABLE "adjustment_notes" ADD CONSTRAINT "adjustment_notes_tenant_id_fkey" FOREIGN KEY ("tenant_id") REFERENCES "tenants"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- CreateTable
CREATE TABLE "adjustment_note_lines" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "note_id" UUID NOT NULL,
    "line_no" INTEGER NOT NULL,
    "line_key" TEXT NOT NULL,
    "kind" "invoice_line_kind" NOT NULL,
    "deployment_id" UUID,
    "resource_kind" TEXT,
    "description" TEXT NOT NULL,
    "quantity" DECIMAL(30,12) NOT NULL,
    "unit_price" DECIMAL(30,12) NOT NULL,
    "old_amount_minor" BIGINT NOT NULL,
    "new_amount_minor" BIGINT NOT NULL,
    "delta_minor" BIGINT NOT NULL,

    CONSTRAINT "adjustment_note_lines_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "adjustment_note_lines_delta_check" CHECK ("delta_minor" = "new_amount_minor" - "old_amount_minor")
);
CREATE UNIQUE INDEX "adjustment_note_lines_note_id_line_no_key" ON "adjustment_note_lines"("note_id", "line_no");
ALTER TABLE "adjustment_note_lines" ADD CONSTRAINT "adjustment_note_lines_note_id_fkey" FOREIGN KEY ("note_id") REFERENCES "adjustment_notes"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- CreateTable: the receivables outbox, one row per document version to deliver to finance,
-- written in the transaction that changed the document.
CREATE TABLE "receivable_deliveries" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "document_type" "document_type" NOT NULL,
    "document_id" UUID NOT NULL,
    "version" INTEGER NOT NULL,
    "invoice_id" UUID NOT NULL,
    "tenant_id" UUID NOT NULL,
    "idempotency_key" TEXT NOT NULL,
    "payload" JSONB NOT NULL,
    "state" "delivery_state" NOT NULL DEFAULT 'pending',
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "last_error_status" INTEGER,
    "last_error" TEXT,
    "finance_id" TEXT,
    "finance_action" TEXT,
    "delivered_at" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "receivable_deliveries_pkey" PRIMARY KEY ("id")
);
CREATE UNIQUE INDEX "receivable_deliveries_document_id_version_key" ON "receivable_deliveries"("document_id", "version");
CREATE UNIQUE INDEX "receivable_deliveries_idempotency_key_key" ON "receivable_deliveries"("idempotency_key");
CREATE INDEX "receivable_deliveries_invoice_id_idx" ON "receivable_deliveries"("invoice_id");
CREATE INDEX "receivable_deliveries_state_idx" ON "receivable_deliveries"("state");

-- Month close runs: reissue after void.
ALTER TABLE "month_close_runs" ADD COLUMN "reissue" BOOLEAN NOT NULL DEFAULT false;
