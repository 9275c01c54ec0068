// Proves the hand-written migrations produce exactly what prisma/schema.prisma describes: every
// model is a table, every scalar field a column with the right type and nullability (and no column
// the schema does not know), every enum a type with the same values, every @id/@unique an index.
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import pg from 'pg';
import { useTestDatabase } from './support/db.ts';

interface Field {
  name: string;
  column: string;
  type: string;
  optional: boolean;
  list: boolean;
  db: string | null;
  attributes: string;
}
interface Model {
  name: string;
  table: string;
  fields: Field[];
  uniques: string[][];
  id: string[];
}

async function parseSchema() {
  const text = (await readFile(new URL('../prisma/schema.prisma', import.meta.url), 'utf8')).replace(/\/\/.*$/gm, '');
  const enums = new Map<string, { dbName: string; values: string[] }>();
  for (const m of text.matchAll(/enum\s+(\w+)\s*\{([^}]*)\}/g)) {
    const body = m[2]!;
    const values = body.split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('@@'));
    enums.set(m[1]!, { dbName: /@@map\("([^"]+)"\)/.exec(body)?.[1] ?? m[1]!, values });
  }
  const models: Model[] = [];
  const modelNames = new Set([...text.matchAll(/model\s+(\w+)\s*\{/g)].map((m) => m[1]!));
  for (const m of text.matchAll(/model\s+(\w+)\s*\{([^}]*)\}/g)) {
    const body = m[2]!;
    const fields: Field[] = [];
    for (const raw of body.split('\n')) {
      const line = raw.trim();
      const f = /^(\w+)\s+(\w+)(\[\])?(\?)?\s*(.*)$/.exec(line);
      if (!f || line.startsWith('@@')) continue;
      const [, name, type, list, optional, attributes] = f as unknown as [string, string, string, string | undefined, string | undefined, string];
      if (modelNames.has(type)) continue; // relation field
      fields.push({ name, type, list: !!list, optional: !!optional, attributes, column: /@map\("([^"]+)"\)/.exec(attributes)?.[1] ?? name, db: /@db\.(\w+(?:\([^)]*\))?)/.exec(attributes)?.[1] ?? null });
    }
    const col = (n: string) => fields.find((x) => x.name === n)?.column ?? n;
    const uniques = [
      ...fields.filter((x) => /@unique\b/.test(x.attributes)).map((x) => [x.column]),
      ...[...body.matchAll(/@@unique\(\[([^\]]+)\]/g)].map((u) => u[1]!.split(',').map((s) => col(s.trim()))),
    ];
    const compositeId = /@@id\(\[([^\]]+)\]/.exec(body)?.[1]?.split(',').map((s) => col(s.trim()));
    const id = compositeId ?? fields.filter((x) => /@id\b/.test(x.attributes)).map((x) => x.column);
    models.push({ name: m[1]!, table: /@@map\("([^"]+)"\)/.exec(body)?.[1] ?? m[1]!, fields, uniques, id });
  }
  return { enums, models };
}

/** The PostgreSQL type Prisma would create for a field. */
function expectedType(field: Field, enums: Map<string, { dbName: string }>): string {
  if (enums.has(field.type)) return enums.get(field.type)!.dbName;
  const db = field.db;
  switch (field.type) {
    case 'String':
      if (db === 'Uuid') return 'uuid';
      if (db?.startsWith('Char(')) return `character(${/\((\d+)\)/.exec(db)![1]})`;
      if (db?.startsWith('VarChar(')) return `character varying(${/\((\d+)\)/.exec(db)![1]})`;
      return 'text';
    case 'Int':
      return 'integer';
    case 'BigInt':
      return 'bigint';
    case 'Boolean':
      return 'boolean';
    case 'Json':
      return db === 'Json' ? 'json' : 'jsonb';
    case 'DateTime':
      return db?.startsWith('Timestamptz') ? `timestamp(${/\((\d+)\)/.exec(db)?.[1] ?? '3'}) with time zone` : 'timestamp(3) without time zone';
    case 'Decimal': {
      const pq = db ? /\((\d+),\s*(\d+)\)/.exec(db) : null;
      return pq ? `numeric(${pq[1]},${pq[2]})` : 'numeric(65,30)';
    }
    default:
      throw new Error(`unmapped prisma type ${field.type}`);
  }
}

const db = useTestDatabase();

describe('schema.prisma matches the migrated database', async () => {
  const { enums, models } = await parseSchema();

  it('parses a schema with models and enums', () => {
    expect(models.length).toBeGreaterThan(10);
    expect(enums.size).toBeGreaterThan(2);
  });

  it('every model, field, enum and unique key exists with the right type and nullability', async () => {
    const client = new pg.Client({ connectionString: db().url });
    await client.connect();
    try {
      const { rows: columns } = await client.query<{ table_name: string; column_name: string; is_nullable: string; type: string }>(`
        SELECT c.relname AS table_name, a.attname AS column_name, CASE WHEN a.attnotnull THEN 'NO' ELSE 'YES' END AS is_nullable,
               format_type(a.atttypid, a.atttypmod) AS type
          FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE n.nspname = 'public' AND c.relkind = 'r' AND a.attnum > 0 AND NOT a.attisdropped`);
      const { rows: enumRows } = await client.query<{ name: string; values: string[] }>(`
        SELECT t.typname AS name, array_agg(e.enumlabel ORDER BY e.enumsortorder)::text[] AS values
          FROM pg_type t JOIN pg_enum e ON e.enumtypid = t.oid GROUP BY t.typname`);
      const { rows: indexes } = await client.query<{ table_name: string; columns: string[]; unique: boolean; primary: boolean }>(`
        SELECT c.relname AS table_name, ix.indisunique AS unique, ix.indisprimary AS primary,
               array(SELECT a.attname FROM unnest(ix.indkey) WITH ORDINALITY k(attnum, ord)
                       JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum ORDER BY k.ord)::text[] AS columns
          FROM pg_index ix JOIN pg_class c ON c.oid = ix.indrelid JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE n.nspname = 'public'`);

      const problems: string[] = [];
      for (const [name, e] of enums) {
        const found = enumRows.find((r) => r.name === e.dbName);
        if (!found) problems.push(`enum ${name}: type ${e.dbName} missing`);
        else if (JSON.stringify(found.values) !== JSON.stringify(e.values)) problems.push(`enum ${name}: values ${found.values} ≠ ${e.values}`);
      }
      for (const model of models) {
        const tableColumns = columns.filter((c) => c.table_name === model.table);
        if (tableColumns.length === 0) {
          problems.push(`model ${model.name}: table ${model.table} missing`);
          continue;
        }
        for (const field of model.fields) {
          const column = tableColumns.find((c) => c.column_name === field.column);
          if (!column) {
            problems.push(`${model.name}.${field.name}: column ${model.table}.${field.column} missing`);
            continue;
          }
          const type = expectedType(field, enums) + (field.list ? '[]' : '');
          if (column.type !== type) problems.push(`${model.name}.${field.name}: type ${column.type}, schema says ${type}`);
          const nullable = column.is_nullable === 'YES';
          if (nullable !== field.optional) problems.push(`${model.name}.${field.name}: ${nullable ? 'nullable' : 'NOT NULL'} in the database, ${field.optional ? 'optional' : 'required'} in the schema`);
        }
        for (const column of tableColumns) {
          if (!model.fields.some((f) => f.column === column.column_name)) problems.push(`${model.table}.${column.column_name}: column not in schema.prisma`);
        }
        const tableIndexes = indexes.filter((i) => i.table_name === model.table);
        if (!tableIndexes.some((i) => i.primary && JSON.stringify(i.columns) === JSON.stringify(model.id))) problems.push(`${model.name}: primary key (${model.id}) missing`);
        for (const unique of model.uniques) {
          if (!tableIndexes.some((i) => i.unique && JSON.stringify(i.columns) === JSON.stringify(unique))) problems.push(`${model.name}: unique (${unique}) missing`);
        }
      }
      const modelTables = new Set(models.map((m) => m.table));
      for (const table of new Set(columns.map((c) => c.table_name))) {
        if (table !== '_prisma_migrations' && !modelTables.has(table)) problems.push(`table ${table} has no model in schema.prisma`);
      }
      expect(problems).toEqual([]);
    } finally {
      await client.end();
    }
  });

  it('has the partial unique index schema.prisma cannot express: one live invoice per tenant and period', async () => {
    const client = new pg.Client({ connectionString: db().url });
    await client.connect();
    try {
      const { rows } = await client.query<{ def: string }>(
        `SELECT pg_get_indexdef(indexrelid) AS def FROM pg_index WHERE indexrelid = 'tenant_invoices_tenant_id_period_start_live_key'::regclass`,
      );
      expect(rows[0]?.def).toMatch(/CREATE UNIQUE INDEX .* ON public\.tenant_invoices USING btree \(tenant_id, period_start\) WHERE \(status <> 'void'::invoice_status\)/);
    } finally {
      await client.end();
    }
  });
});
