-- The month close sums a chunk's LLM usage by deployment: with `charge` in the index the sums are
-- an index-only scan instead of a visit to every heap page holding one of the chunk's events
-- (events of all tenants interleave on the heap, so a chunk of 1,500 deployments touched ~12,800
-- of the table's ~25,000 pages). Same key, so every other query using the index is unchanged.
-- Prisma's schema cannot say INCLUDE; schema.prisma keeps @@index([deploymentId, occurredAt]).
--
-- 10,000 tenants, 1,000,000 events, a chunk of 500 tenants (after autovacuum set the visibility map):
--   GroupAggregate
--     ->  Index Only Scan using llm_usage_events_deployment_id_occurred_at_idx on llm_usage_events
--           Index Cond: ((deployment_id = ANY ($1)) AND (occurred_at >= $2) AND (occurred_at < $3))
--           Heap Fetches: 0
--   Execution Time: 35 ms   (before: Bitmap Heap Scan, Heap Blocks: exact=12864, 129 ms)
DROP INDEX "llm_usage_events_deployment_id_occurred_at_idx";
CREATE INDEX "llm_usage_events_deployment_id_occurred_at_idx" ON "llm_usage_events" ("deployment_id", "occurred_at") INCLUDE ("charge");
