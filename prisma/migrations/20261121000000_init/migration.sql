-- CreateEnum
CREATE TYPE "deployment_state" AS ENUM ('trial', 'active', 'past_due', 'paused', 'suspended', 'cancelled', 'archived');

-- CreateEnum
CREATE TYPE "subscription_status" AS ENUM ('active', 'paused', 'cancelled');

-- CreateEnum
CREATE TYPE "invoice_status" AS ENUM ('draft', 'issued', 'paid', 'void');

-- CreateEnum
CREATE TYPE "invoice_line_kind" AS ENUM ('plan_base', 'addon', 'overage', 'llm_usage', 'tax');

-- CreateTable
CREATE TABLE "tenants" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "name" TEXT NOT NULL,
    "slug" TEXT NOT NULL,
    "billing_currency" CHAR(3) NOT NULL DEFAULT 'AUD',
    "tax_country" CHAR(2) NOT NULL DEFAULT 'AU',
    "tax_rate" DECIMAL(6,4) NOT NULL DEFAULT 0.1,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "tenants_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "tenants_tax_rate_check" CHECK ("tax_rate" >= 0 AND "tax_rate" < 1)
);

-- CreateTable
CREATE TABLE "plans" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "code" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "plans_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "plan_versions" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "plan_id" UUID NOT NULL,
    "version" INTEGER NOT NULL,
    "base_price_minor" BIGINT NOT NULL,
    "currency" CHAR(3) NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "plan_versions_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "plan_versions_base_price_check" CHECK ("base_price_minor" >= 0)
);

-- CreateTable
CREATE TABLE "plan_version_allowances" (
    "plan_version_id" UUID NOT NULL,
    "resource_kind" TEXT NOT NULL,
    "included_hours" BIGINT NOT NULL,
    "overage_unit_price" DECIMAL(24,12) NOT NULL,

    CONSTRAINT "plan_version_allowances_pkey" PRIMARY KEY ("plan_version_id","resource_kind"),
    CONSTRAINT "plan_version_allowances_check" CHECK ("included_hours" >= 0 AND "overage_unit_price" >= 0)
);

-- CreateTable
CREATE TABLE "addons" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "code" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "price_minor" BIGINT NOT NULL,
    "currency" CHAR(3) NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "addons_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "addons_price_check" CHECK ("price_minor" >= 0)
);

-- CreateTable
CREATE TABLE "deployments" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "tenant_id" UUID NOT NULL,
    "slug" TEXT NOT NULL,
    "display_name" TEXT NOT NULL,
    "region" TEXT NOT NULL,
    "state" "deployment_state" NOT NULL DEFAULT 'trial',
    "llm_mode" TEXT NOT NULL DEFAULT 'platform',
    "billing_action_suspended" BOOLEAN NOT NULL DEFAULT false,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "deployments_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "deployment_events" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "deployment_id" UUID NOT NULL,
    "from_state" "deployment_state",
    "to_state" "deployment_state" NOT NULL,
    "actor" TEXT NOT NULL,
    "reason" TEXT,
    "at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "deployment_events_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "subscriptions" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "deployment_id" UUID NOT NULL,
    "status" "subscription_status" NOT NULL DEFAULT 'active',
    "started_at" TIMESTAMPTZ(3) NOT NULL,
    "ended_at" TIMESTAMPTZ(3),
    "current_period_start" TIMESTAMPTZ(3) NOT NULL,
    "current_period_end" TIMESTAMPTZ(3) NOT NULL,
    "trial_ends_at" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "subscriptions_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "subscription_segments" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "subscription_id" UUID NOT NULL,
    "plan_version_id" UUID NOT NULL,
    "status" "subscription_status" NOT NULL,
    "valid_from" TIMESTAMPTZ(3) NOT NULL,
    "valid_to" TIMESTAMPTZ(3),

    CONSTRAINT "subscription_segments_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "subscription_segments_range_check" CHECK ("valid_to" IS NULL OR "valid_to" > "valid_from")
);

-- CreateTable
CREATE TABLE "subscription_addons" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "subscription_id" UUID NOT NULL,
    "addon_id" UUID NOT NULL,
    "addon_code" TEXT NOT NULL,
    "addon_name" TEXT NOT NULL,
    "unit_price_minor" BIGINT NOT NULL,
    "currency" CHAR(3) NOT NULL,
    "quantity" INTEGER NOT NULL,
    "attached_at" TIMESTAMPTZ(3) NOT NULL,
    "detached_at" TIMESTAMPTZ(3),

    CONSTRAINT "subscription_addons_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "subscription_addons_check" CHECK ("quantity" > 0 AND "unit_price_minor" >= 0 AND ("detached_at" IS NULL OR "detached_at" >= "attached_at"))
);

-- CreateTable
CREATE TABLE "cloud_resources" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "provider" TEXT NOT NULL,
    "provider_resource_id" TEXT NOT NULL,
    "kind" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "size" TEXT,
    "deployment_id" UUID,
    "created_at" TIMESTAMPTZ(3) NOT NULL,
    "deleted_at" TIMESTAMPTZ(3),

    CONSTRAINT "cloud_resources_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "cloud_resources_lifetime_check" CHECK ("deleted_at" IS NULL OR "deleted_at" >= "created_at")
);

-- CreateTable
CREATE TABLE "llm_usage_events" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "gateway_request_id" VARCHAR(200) NOT NULL,
    "tenant_id" UUID NOT NULL,
    "deployment_id" UUID NOT NULL,
    "model" TEXT NOT NULL,
    "provider" TEXT NOT NULL,
    "prompt_tokens" BIGINT NOT NULL,
    "completion_tokens" BIGINT NOT NULL,
    "total_tokens" BIGINT NOT NULL,
    "charge" DECIMAL(30,12) NOT NULL,
    "currency" CHAR(3) NOT NULL,
    "occurred_at" TIMESTAMPTZ(3) NOT NULL,
    "received_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "body_hash" TEXT NOT NULL,

    CONSTRAINT "llm_usage_events_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "llm_usage_events_check" CHECK ("charge" >= 0 AND "prompt_tokens" >= 0 AND "completion_tokens" >= 0 AND "total_tokens" >= 0)
);

-- CreateTable
CREATE TABLE "tenant_invoices" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "tenant_id" UUID NOT NULL,
    "period_start" TIMESTAMPTZ(3) NOT NULL,
    "period_end" TIMESTAMPTZ(3) NOT NULL,
    "status" "invoice_status" NOT NULL DEFAULT 'draft',
    "currency" CHAR(3) NOT NULL,
    "subtotal_minor" BIGINT NOT NULL,
    "tax_minor" BIGINT NOT NULL,
    "total_minor" BIGINT NOT NULL,
    "revision" INTEGER NOT NULL DEFAULT 1,
    "inputs" JSONB NOT NULL,
    "inputs_hash" TEXT NOT NULL,
    "llm_event_count" INTEGER NOT NULL DEFAULT 0,
    "computed_at" TIMESTAMPTZ(3) NOT NULL,
    "last_run_id" UUID,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "tenant_invoices_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "tenant_invoices_total_check" CHECK ("total_minor" = "subtotal_minor" + "tax_minor")
);

-- CreateTable
CREATE TABLE "tenant_invoice_lines" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "invoice_id" UUID NOT NULL,
    "line_no" INTEGER NOT NULL,
    "kind" "invoice_line_kind" NOT NULL,
    "deployment_id" UUID,
    "resource_kind" TEXT,
    "description" TEXT NOT NULL,
    "quantity" DECIMAL(30,12) NOT NULL,
    "unit_price" DECIMAL(30,12) NOT NULL,
    "amount_minor" BIGINT NOT NULL,

    CONSTRAINT "tenant_invoice_lines_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "invoice_revisions" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "invoice_id" UUID NOT NULL,
    "revision" INTEGER NOT NULL,
    "previous_lines" JSONB NOT NULL,
    "previous_subtotal_minor" BIGINT NOT NULL,
    "previous_tax_minor" BIGINT NOT NULL,
    "previous_total_minor" BIGINT NOT NULL,
    "previous_inputs_hash" TEXT NOT NULL,
    "forced_by" TEXT NOT NULL,
    "reason" TEXT,
    "forced_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "invoice_revisions_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "month_close_runs" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "period_start" TIMESTAMPTZ(3) NOT NULL,
    "trigger" TEXT NOT NULL,
    "force" BOOLEAN NOT NULL DEFAULT false,
    "dry_run" BOOLEAN NOT NULL DEFAULT false,
    "tenant_id" UUID,
    "requested_by" TEXT NOT NULL,
    "reason" TEXT,
    "status" TEXT NOT NULL DEFAULT 'queued',
    "job_id" TEXT,
    "summary" JSONB,
    "error" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "started_at" TIMESTAMPTZ(3),
    "finished_at" TIMESTAMPTZ(3),

    CONSTRAINT "month_close_runs_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "tenants_slug_key" ON "tenants"("slug");

-- CreateIndex
CREATE UNIQUE INDEX "plans_code_key" ON "plans"("code");

-- CreateIndex
CREATE UNIQUE INDEX "plan_versions_plan_id_version_key" ON "plan_versions"("plan_id", "version");

-- CreateIndex
CREATE UNIQUE INDEX "addons_code_key" ON "addons"("code");

-- CreateIndex
CREATE UNIQUE INDEX "deployments_tenant_id_slug_key" ON "deployments"("tenant_id", "slug");

-- CreateIndex
CREATE INDEX "deployment_events_deployment_id_at_idx" ON "deployment_events"("deployment_id", "at");

-- CreateIndex
CREATE UNIQUE INDEX "subscriptions_deployment_id_key" ON "subscriptions"("deployment_id");

-- CreateIndex
CREATE INDEX "subscription_segments_subscription_id_valid_from_idx" ON "subscription_segments"("subscription_id", "valid_from");

-- CreateIndex
CREATE INDEX "subscription_addons_subscription_id_idx" ON "subscription_addons"("subscription_id");

-- CreateIndex
CREATE UNIQUE INDEX "cloud_resources_provider_provider_resource_id_key" ON "cloud_resources"("provider", "provider_resource_id");

-- CreateIndex
CREATE INDEX "cloud_resources_deployment_id_idx" ON "cloud_resources"("deployment_id");

-- CreateIndex
CREATE UNIQUE INDEX "llm_usage_events_gateway_request_id_key" ON "llm_usage_events"("gateway_request_id");

-- CreateIndex
CREATE INDEX "llm_usage_events_tenant_id_occurred_at_idx" ON "llm_usage_events"("tenant_id", "occurred_at");

-- CreateIndex
CREATE INDEX "llm_usage_events_deployment_id_occurred_at_idx" ON "llm_usage_events"("deployment_id", "occurred_at");

-- CreateIndex
CREATE UNIQUE INDEX "tenant_invoices_tenant_id_period_start_key" ON "tenant_invoices"("tenant_id", "period_start");

-- CreateIndex
CREATE INDEX "tenant_invoices_period_start_status_idx" ON "tenant_invoices"("period_start", "status");

-- CreateIndex
CREATE UNIQUE INDEX "tenant_invoice_lines_invoice_id_line_no_key" ON "tenant_invoice_lines"("invoice_id", "line_no");

-- CreateIndex
CREATE UNIQUE INDEX "invoice_revisions_invoice_id_revision_key" ON "invoice_revisions"("invoice_id", "revision");

-- CreateIndex
CREATE INDEX "month_close_runs_period_start_status_idx" ON "month_close_runs"("period_start", "status");

-- AddForeignKey
ALTER TABLE "plan_versions" ADD CONSTRAINT "plan_versions_plan_id_fkey" FOREIGN KEY ("plan_id") REFERENCES "plans"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "plan_version_allowances" ADD CONSTRAINT "plan_version_allowances_plan_version_id_fkey" FOREIGN KEY ("plan_version_id") REFERENCES "plan_versions"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "deployments" ADD CONSTRAINT "deployments_tenant_id_fkey" FOREIGN KEY ("tenant_id") REFERENCES "tenants"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "deployment_events" ADD CONSTRAINT "deployment_events_deployment_id_fkey" FOREIGN KEY ("deployment_id") REFERENCES "deployments"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "subscriptions" ADD CONSTRAINT "subscriptions_deployment_id_fkey" FOREIGN KEY ("deployment_id") REFERENCES "deployments"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "subscription_segments" ADD CONSTRAINT "subscription_segments_subscription_id_fkey" FOREIGN KEY ("subscription_id") REFERENCES "subscriptions"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "subscription_segments" ADD CONSTRAINT "subscription_segments_plan_version_id_fkey" FOREIGN KEY ("plan_version_id") REFERENCES "plan_versions"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "subscription_addons" ADD CONSTRAINT "subscription_addons_subscription_id_fkey" FOREIGN KEY ("subscription_id") REFERENCES "subscriptions"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "subscription_addons" ADD CONSTRAINT "subscription_addons_addon_id_fkey" FOREIGN KEY ("addon_id") REFERENCES "addons"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "cloud_resources" ADD CONSTRAINT "cloud_resources_deployment_id_fkey" FOREIGN KEY ("deployment_id") REFERENCES "deployments"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "llm_usage_events" ADD CONSTRAINT "llm_usage_events_tenant_id_fkey" FOREIGN KEY ("tenant_id") REFERENCES "tenants"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "llm_usage_events" ADD CONSTRAINT "llm_usage_events_deployment_id_fkey" FOREIGN KEY ("deployment_id") REFERENCES "deployments"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "tenant_invoices" ADD CONSTRAINT "tenant_invoices_tenant_id_fkey" FOREIGN KEY ("tenant_id") REFERENCES "tenants"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "tenant_invoice_lines" ADD CONSTRAINT "tenant_invoice_lines_invoice_id_fkey" FOREIGN KEY ("invoice_id") REFERENCES "tenant_invoices"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "invoice_revisions" ADD CONSTRAINT "invoice_revisions_invoice_id_fkey" FOREIGN KEY ("invoice_id") REFERENCES "tenant_invoices"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
