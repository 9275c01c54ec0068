import { describe, expect, it } from 'vitest';
import { useTestApp } from './support/app.ts';

const ctx = useTestApp();

describe('probes and docs', () => {
  it('answers /healthz and /readyz with the database and pg-boss checked', async () => {
    const { app } = ctx();
    expect((await app.inject({ method: 'GET', url: '/healthz' })).json()).toEqual({ status: 'ok' });
    const ready = await app.inject({ method: 'GET', url: '/readyz' });
    expect(ready.statusCode).toBe(200);
    expect(ready.json()).toEqual({ status: 'ready', checks: { database: 'ok', queue: 'ok' } });
  });

  it('publishes the OpenAPI document and a browsable page', async () => {
    const { app } = ctx();
    const doc = (await app.inject({ method: 'GET', url: '/docs/json' })).json();
    for (const path of ['/api/v1/invoices', '/api/v1/invoices/{id}', '/api/v1/invoices/rollup', '/api/v1/jobs/{id}', '/api/v1/integrations/llm-usage', '/api/v1/deployments/{id}/quote']) {
      expect(Object.keys(doc.paths)).toContain(path);
    }
    expect(doc.paths['/api/v1/invoices/rollup'].post.requestBody.content['application/json'].schema.required).toContain('period');
    expect((await app.inject({ method: 'GET', url: '/docs' })).statusCode).toBeLessThan(400);
  });

  it('answers an unknown route with a JSON 404', async () => {
    const res = await ctx().app.inject({ method: 'GET', url: '/api/v1/nothing-here' });
    expect(res.statusCode).toBe(404);
    expect(res.json().error).toBe('route_not_found');
  });
});
