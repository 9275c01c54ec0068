-- cost_lines' three foreign keys become triggers that enforce the same rules once per statement
-- instead of once per row.
--
-- Why: an invoice CSV is 100,000 lines stored by a few COPY statements. A foreign key checks each
-- inserted row on its own: a query per row and key (an index probe and a FOR KEY SHARE row lock),
-- almost always of the same invoice, of a few hundred resources and deployments. perf on
-- bench:csv: 31% of the database's time in the ingest went to these checks, ~1 s of CPU per
-- 100,000 lines. The triggers below check each statement's distinct keys once.
--
-- The rules, as the foreign keys had them:
-- - every cost line's provider_invoice_id is a provider_invoices row; cloud_resource_id and
--   deployment_id, when not null, are a cloud_resources and a deployments row;
-- - the referenced rows are locked FOR KEY SHARE until the writing transaction ends, as a foreign
--   key's check locks them: a concurrent delete waits, then finds the new lines;
-- - deleting an invoice deletes its lines (ON DELETE CASCADE); deleting a resource or a deployment
--   sets the lines' cloud_resource_id or deployment_id to null (ON DELETE SET NULL); changing a
--   referenced id carries over to the lines (ON UPDATE CASCADE); a TRUNCATE of a referenced table
--   that would leave lines pointing nowhere fails (a foreign key refuses it too, or with CASCADE
--   empties cost_lines: here, truncate cost_lines in the same statement);
-- - a violation raises foreign_key_violation (23503) naming the constraint it replaces.
-- One difference, made explicit: a foreign key's cascade in REPEATABLE READ or SERIALIZABLE sees
-- lines committed after its snapshot and fails with a serialization error; a trigger cannot see
-- them, so deleting (or re-keying) a referenced row is refused outside READ COMMITTED (the
-- default, and the only level this code base uses) rather than risk leaving lines behind.
-- test/costs/cost-line-references.test.ts proves each rule.

ALTER TABLE "cost_lines" DROP CONSTRAINT "cost_lines_provider_invoice_id_fkey";
ALTER TABLE "cost_lines" DROP CONSTRAINT "cost_lines_cloud_resource_id_fkey";
ALTER TABLE "cost_lines" DROP CONSTRAINT "cost_lines_deployment_id_fkey";

-- The deployment_id index serves one lookup, lines by a deployment (the delete and re-key below):
-- it no longer holds the lines without one (unmatched, unowned, credits, taxes), which every
-- ingest wrote into it for nothing. Its scans say `deployment_id IS NOT NULL` to use it.
-- (cloud_resource_id keeps its full index: matching looks up `cloud_resource_id IS NULL`.)
DROP INDEX "cost_lines_deployment_id_idx";
CREATE INDEX "cost_lines_deployment_id_idx" ON "cost_lines"("deployment_id") WHERE "deployment_id" IS NOT NULL;

-- ---------------------------------------------------------------- cost_lines: what the new rows reference

CREATE FUNCTION "cost_lines_check_references"() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  invoice_ids uuid[];
  resource_ids uuid[];
  deployment_ids uuid[];
  found integer;
  missing text;
BEGIN
  -- One pass over the statement's rows: the distinct keys they reference.
  SELECT array_agg(DISTINCT provider_invoice_id),
         array_agg(DISTINCT cloud_resource_id) FILTER (WHERE cloud_resource_id IS NOT NULL),
         array_agg(DISTINCT deployment_id) FILTER (WHERE deployment_id IS NOT NULL)
    INTO invoice_ids, resource_ids, deployment_ids
    FROM new_lines;

  -- Each key found and locked in one statement (a row deleted meanwhile is not found).
  IF invoice_ids IS NOT NULL THEN
    SELECT count(*) INTO found FROM (SELECT 1 FROM "provider_invoices" p WHERE p.id = ANY (invoice_ids) FOR KEY SHARE OF p) locked;
    IF found < cardinality(invoice_ids) THEN
      SELECT k::text INTO missing FROM unnest(invoice_ids) k WHERE NOT EXISTS (SELECT 1 FROM "provider_invoices" p WHERE p.id = k) LIMIT 1;
      RAISE EXCEPTION 'insert or update on table "cost_lines" violates foreign key constraint "cost_lines_provider_invoice_id_fkey"'
        USING ERRCODE = 'foreign_key_violation', TABLE = 'cost_lines', CONSTRAINT = 'cost_lines_provider_invoice_id_fkey',
              DETAIL = format('Key (provider_invoice_id)=(%s) is not present in table "provider_invoices".', missing);
    END IF;
  END IF;

  IF resource_ids IS NOT NULL THEN
    SELECT count(*) INTO found FROM (SELECT 1 FROM "cloud_resources" r WHERE r.id = ANY (resource_ids) FOR KEY SHARE OF r) locked;
    IF found < cardinality(resource_ids) THEN
      SELECT k::text INTO missing FROM unnest(resource_ids) k WHERE NOT EXISTS (SELECT 1 FROM "cloud_resources" r WHERE r.id = k) LIMIT 1;
      RAISE EXCEPTION 'insert or update on table "cost_lines" violates foreign key constraint "cost_lines_cloud_resource_id_fkey"'
        USING ERRCODE = 'foreign_key_violation', TABLE = 'cost_lines', CONSTRAINT = 'cost_lines_cloud_resource_id_fkey',
              DETAIL = format('Key (cloud_resource_id)=(%s) is not present in table "cloud_resources".', missing);
    END IF;
  END IF;

  IF deployment_ids IS NOT NULL THEN
    SELECT count(*) INTO found FROM (SELECT 1 FROM "deployments" d WHERE d.id = ANY (deployment_ids) FOR KEY SHARE OF d) locked;
    IF found < cardinality(deployment_ids) THEN
      SELECT k::text INTO missing FROM unnest(deployment_ids) k WHERE NOT EXISTS (SELECT 1 FROM "deployments" d WHERE d.id = k) LIMIT 1;
      RAISE EXCEPTION 'insert or update on table "cost_lines" violates foreign key constraint "cost_lines_deployment_id_fkey"'
        USING ERRCODE = 'foreign_key_violation', TABLE = 'cost_lines', CONSTRAINT = 'cost_lines_deployment_id_fkey',
              DETAIL = format('Key (deployment_id)=(%s) is not present in table "deployments".', missing);
    END IF;
  END IF;
  RETURN NULL;
END
$$;

-- Transition tables cannot go with a column list, so every UPDATE is checked (matching is the only
-- one there is, and it writes cloud_resource_id and deployment_id).
CREATE TRIGGER "cost_lines_references_on_insert" AFTER INSERT ON "cost_lines"
  REFERENCING NEW TABLE AS new_lines FOR EACH STATEMENT EXECUTE FUNCTION "cost_lines_check_references"();
CREATE TRIGGER "cost_lines_references_on_update" AFTER UPDATE ON "cost_lines"
  REFERENCING NEW TABLE AS new_lines FOR EACH STATEMENT EXECUTE FUNCTION "cost_lines_check_references"();

-- ---------------------------------------------------------------- the referenced tables: delete and re-key

CREATE FUNCTION "cost_lines_require_read_committed"(what text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  IF current_setting('transaction_isolation') <> 'read committed' THEN
    RAISE EXCEPTION '% referenced by cost_lines needs READ COMMITTED (a trigger cannot see lines committed after this transaction''s snapshot)', what
      USING ERRCODE = 'feature_not_supported';
  END IF;
END
$$;

CREATE FUNCTION "provider_invoices_delete_cost_lines"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF EXISTS (SELECT 1 FROM old_rows) THEN
    PERFORM "cost_lines_require_read_committed"('deleting provider_invoices');
    DELETE FROM "cost_lines" c USING old_rows o WHERE c.provider_invoice_id = o.id;
  END IF;
  RETURN NULL;
END
$$;
CREATE TRIGGER "cost_lines_cascade_on_delete" AFTER DELETE ON "provider_invoices"
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION "provider_invoices_delete_cost_lines"();

CREATE FUNCTION "provider_invoices_rekey_cost_lines"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM "cost_lines_require_read_committed"('changing the id of provider_invoices');
  UPDATE "cost_lines" SET provider_invoice_id = NEW.id WHERE provider_invoice_id = OLD.id;
  RETURN NULL;
END
$$;
CREATE TRIGGER "cost_lines_cascade_on_update" AFTER UPDATE OF id ON "provider_invoices"
  FOR EACH ROW WHEN (OLD.id IS DISTINCT FROM NEW.id) EXECUTE FUNCTION "provider_invoices_rekey_cost_lines"();

CREATE FUNCTION "cloud_resources_unset_cost_lines"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF EXISTS (SELECT 1 FROM old_rows) THEN
    PERFORM "cost_lines_require_read_committed"('deleting cloud_resources');
    UPDATE "cost_lines" c SET cloud_resource_id = NULL FROM old_rows o WHERE c.cloud_resource_id = o.id;
  END IF;
  RETURN NULL;
END
$$;
CREATE TRIGGER "cost_lines_set_null_on_delete" AFTER DELETE ON "cloud_resources"
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION "cloud_resources_unset_cost_lines"();

CREATE FUNCTION "cloud_resources_rekey_cost_lines"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM "cost_lines_require_read_committed"('changing the id of cloud_resources');
  UPDATE "cost_lines" SET cloud_resource_id = NEW.id WHERE cloud_resource_id = OLD.id;
  RETURN NULL;
END
$$;
CREATE TRIGGER "cost_lines_cascade_on_update" AFTER UPDATE OF id ON "cloud_resources"
  FOR EACH ROW WHEN (OLD.id IS DISTINCT FROM NEW.id) EXECUTE FUNCTION "cloud_resources_rekey_cost_lines"();

CREATE FUNCTION "deployments_unset_cost_lines"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF EXISTS (SELECT 1 FROM old_rows) THEN
    PERFORM "cost_lines_require_read_committed"('deleting deployments');
    UPDATE "cost_lines" c SET deployment_id = NULL FROM old_rows o WHERE c.deployment_id = o.id AND c.deployment_id IS NOT NULL;
  END IF;
  RETURN NULL;
END
$$;
CREATE TRIGGER "cost_lines_set_null_on_delete" AFTER DELETE ON "deployments"
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION "deployments_unset_cost_lines"();

CREATE FUNCTION "deployments_rekey_cost_lines"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM "cost_lines_require_read_committed"('changing the id of deployments');
  UPDATE "cost_lines" SET deployment_id = NEW.id WHERE deployment_id = OLD.id AND deployment_id IS NOT NULL;
  RETURN NULL;
END
$$;
CREATE TRIGGER "cost_lines_cascade_on_update" AFTER UPDATE OF id ON "deployments"
  FOR EACH ROW WHEN (OLD.id IS DISTINCT FROM NEW.id) EXECUTE FUNCTION "deployments_rekey_cost_lines"();

-- ---------------------------------------------------------------- TRUNCATE of a referenced table

CREATE FUNCTION "cost_lines_refuse_orphans_after_truncate"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF (TG_TABLE_NAME = 'provider_invoices' AND EXISTS (SELECT 1 FROM "cost_lines"))
     OR (TG_TABLE_NAME = 'cloud_resources' AND EXISTS (SELECT 1 FROM "cost_lines" WHERE cloud_resource_id IS NOT NULL))
     OR (TG_TABLE_NAME = 'deployments' AND EXISTS (SELECT 1 FROM "cost_lines" WHERE deployment_id IS NOT NULL)) THEN
    RAISE EXCEPTION 'cannot truncate a table referenced by cost_lines'
      USING ERRCODE = 'feature_not_supported', HINT = 'Truncate table "cost_lines" at the same time.';
  END IF;
  RETURN NULL;
END
$$;
CREATE TRIGGER "cost_lines_refuse_orphans" AFTER TRUNCATE ON "provider_invoices"
  FOR EACH STATEMENT EXECUTE FUNCTION "cost_lines_refuse_orphans_after_truncate"();
CREATE TRIGGER "cost_lines_refuse_orphans" AFTER TRUNCATE ON "cloud_resources"
  FOR EACH STATEMENT EXECUTE FUNCTION "cost_lines_refuse_orphans_after_truncate"();
CREATE TRIGGER "cost_lines_refuse_orphans" AFTER TRUNCATE ON "deployments"
  FOR EACH STATEMENT EXECUTE FUNCTION "cost_lines_refuse_orphans_after_truncate"();
