// The OpenAPI document is complete enough to generate a client from: every operation has a
// summary, a JSON schema for its success answer (201 for creates, 202 for the rollup) and the one
// error body for each error status it can answer.
import { describe, expect, it } from 'vitest';
import { useTestApp } from './support/app.ts';

const ctx = useTestApp();

interface Operation {
  summary?: string;
  responses?: Record<string, { content?: Record<string, { schema?: { type?: string; properties?: Record<string, unknown> } }> }>;
}

async function operations(): Promise<{ key: string; op: Operation }[]> {
  const doc = (await ctx().app.inject({ method: 'GET', url: '/docs/json' })).json() as { paths: Record<string, Record<string, Operation>> };
  return Object.entries(doc.paths).flatMap(([path, methods]) => Object.entries(methods).map(([method, op]) => ({ key: `${method.toUpperCase()} ${path}`, op })));
}

describe('OpenAPI document', () => {
  it('documents every operation: a summary, a JSON success schema, and the error body for 400/401/403', async () => {
    const ops = await operations();
    expect(ops.length).toBeGreaterThanOrEqual(30);
    const problems: string[] = [];
    for (const { key, op } of ops) {
      if (!op.summary) problems.push(`${key}: no summary`);
      const responses = op.responses ?? {};
      const success = Object.keys(responses).filter((s) => /^2\d\d$/.test(s));
      if (success.length === 0) problems.push(`${key}: no 2xx response`);
      for (const [status, response] of Object.entries(responses)) {
        // JSON, or for a document or a CSV export the media type it answers with.
        const schema = response.content?.['application/json']?.schema ?? Object.values(response.content ?? {})[0]?.schema;
        if (!schema || (schema.type === undefined && !('anyOf' in schema) && !('oneOf' in schema) && !('$ref' in schema))) {
          problems.push(`${key}: ${status} has no JSON schema`);
        }
        if (/^[45]\d\d$/.test(status) && !(schema?.properties && 'error' in schema.properties && 'message' in schema.properties)) {
          problems.push(`${key}: ${status} is not the error body`);
        }
      }
      for (const status of ['400', '401', '403']) if (!responses[status]) problems.push(`${key}: ${status} not declared`);
    }
    expect(problems).toEqual([]);
  });

  it('documents creates as 201 and the rollup as 202, not 200', async () => {
    const byKey = new Map((await operations()).map(({ key, op }) => [key, Object.keys(op.responses ?? {})]));
    for (const create of ['POST /api/v1/tenants', 'POST /api/v1/plans', 'POST /api/v1/plans/{code}/versions', 'POST /api/v1/addons', 'POST /api/v1/deployments', 'POST /api/v1/resources']) {
      expect(byKey.get(create), create).toContain('201');
      expect(byKey.get(create), create).not.toContain('200');
    }
    expect(byKey.get('POST /api/v1/invoices/rollup')).toContain('202');
    expect(byKey.get('POST /api/v1/invoices/rollup')).not.toContain('200');
  });

  it('money in the invoice and summary schemas is the one money shape', async () => {
    const doc = (await ctx().app.inject({ method: 'GET', url: '/docs/json' })).json();
    const invoice = doc.paths['/api/v1/invoices/{id}'].get.responses['200'].content['application/json'].schema;
    expect(Object.keys(invoice.properties.total.properties).sort()).toEqual(['amount_minor', 'currency', 'formatted']);
  });
});
