-- The CSV checksum of a vendor bill finance refused (4xx or a bill it cannot represent): the same
-- content is not sent again unless asked (costs:sync --redeliver); a changed CSV is.
ALTER TABLE "provider_invoices" ADD COLUMN "refused_checksum" TEXT;
