-- Exchange rates for the margin report: one rate per period and currency pair, exact, recorded
-- once (a different rate for the same period and pair is a conflict, never a silent rewrite).

-- CreateTable
CREATE TABLE "fx_rates" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "period_start" TIMESTAMPTZ(3) NOT NULL,
    "from_currency" CHAR(3) NOT NULL,
    "to_currency" CHAR(3) NOT NULL,
    "rate" DECIMAL(24,12) NOT NULL,
    "recorded_by" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "fx_rates_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "fx_rates_rate_check" CHECK ("rate" > 0),
    CONSTRAINT "fx_rates_pair_check" CHECK ("from_currency" <> "to_currency")
);

-- CreateIndex
CREATE UNIQUE INDEX "fx_rates_period_start_from_currency_to_currency_key" ON "fx_rates"("period_start", "from_currency", "to_currency");
