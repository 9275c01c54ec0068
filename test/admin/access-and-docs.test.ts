import { describe, expect, it } from 'vitest';
import { useTestApp } from '../support/app.ts';
import type { Role } from '../../src/auth/tokens.ts';

const ctx = useTestApp();

const ID = '00000000-0000-4000-8000-000000000000';
const ROUTES: [method: 'GET' | 'POST', url: string, openapiPath: string][] = [
  ['POST', '/api/v1/tenants', '/api/v1/tenants'],
  ['GET', '/api/v1/tenants', '/api/v1/tenants'],
  ['GET', `/api/v1/tenants/${ID}`, '/api/v1/tenants/{id}'],
  ['POST', '/api/v1/plans', '/api/v1/plans'],
  ['GET', '/api/v1/plans', '/api/v1/plans'],
  ['GET', '/api/v1/plans/pro', '/api/v1/plans/{code}'],
  ['POST', '/api/v1/plans/pro/versions', '/api/v1/plans/{code}/versions'],
  ['POST', '/api/v1/addons', '/api/v1/addons'],
  ['GET', '/api/v1/addons', '/api/v1/addons'],
  ['GET', '/api/v1/addons/backups', '/api/v1/addons/{code}'],
  ['POST', '/api/v1/addons/backups/price', '/api/v1/addons/{code}/price'],
  ['POST', '/api/v1/deployments', '/api/v1/deployments'],
  ['GET', '/api/v1/deployments', '/api/v1/deployments'],
  ['GET', `/api/v1/deployments/${ID}`, '/api/v1/deployments/{id}'],
  ['POST', `/api/v1/deployments/${ID}/transition`, '/api/v1/deployments/{id}/transition'],
  ['POST', `/api/v1/deployments/${ID}/subscribe`, '/api/v1/deployments/{id}/subscribe'],
  ['POST', '/api/v1/resources', '/api/v1/resources'],
  ['GET', '/api/v1/resources', '/api/v1/resources'],
  ['GET', `/api/v1/resources/${ID}`, '/api/v1/resources/{id}'],
  ['POST', `/api/v1/resources/${ID}/delete`, '/api/v1/resources/{id}/delete'],
];

describe('admin endpoints are for platform_admin only', () => {
  it.each(ROUTES)('%s %s answers 401 without a token, before looking at the body', async (method, url) => {
    const res = await ctx().app.inject({ method, url, ...(method === 'POST' ? { payload: { nonsense: true } } : {}) });
    expect(res.statusCode).toBe(401);
    expect(res.json().error).toBe('unauthorized');
  });

  it.each(ROUTES)('%s %s answers 403 to other roles', async (method, url) => {
    for (const role of ['finance', 'tenant_admin', 'tenant_member', 'llm_gateway'] as Role[]) {
      const res = await ctx().app.inject({
        method,
        url,
        headers: await ctx().auth(role, role.startsWith('tenant') ? ID : null),
        ...(method === 'POST' ? { payload: {} } : {}),
      });
      expect(res.statusCode, `${role}`).toBe(403);
      expect(res.json().error).toBe('forbidden');
    }
  });

  it('answers 401 for a malformed bearer token', async () => {
    const res = await ctx().app.inject({ method: 'GET', url: '/api/v1/tenants', headers: { authorization: 'Bearer not.a.jwt' } });
    expect(res.statusCode).toBe(401);
  });
});

describe('OpenAPI', () => {
  it('/docs/json lists every admin route with its request schema', async () => {
    const res = await ctx().app.inject({ method: 'GET', url: '/docs/json' });
    expect(res.statusCode).toBe(200);
    const doc = res.json();
    for (const [method, , path] of ROUTES) {
      expect(doc.paths[path]?.[method.toLowerCase()], `${method} ${path}`).toBeDefined();
    }
    const createTenant = doc.paths['/api/v1/tenants'].post;
    const schema = createTenant.requestBody.content['application/json'].schema;
    expect(schema.required).toEqual(expect.arrayContaining(['name', 'slug']));
    expect(Object.keys(schema.properties)).toEqual(expect.arrayContaining(['name', 'slug', 'billing_currency', 'tax_profile']));
    const subscribe = doc.paths['/api/v1/deployments/{id}/subscribe'].post.requestBody.content['application/json'].schema;
    expect(Object.keys(subscribe.properties)).toEqual(expect.arrayContaining(['plan_code', 'plan_version', 'addons', 'effective_at', 'trial_ends_at']));
    const transition = doc.paths['/api/v1/deployments/{id}/transition'].post.requestBody.content['application/json'].schema;
    expect(transition.properties.to.enum).toEqual(['trial', 'active', 'past_due', 'paused', 'suspended', 'cancelled', 'archived']);
    const list = doc.paths['/api/v1/deployments'].get.parameters.map((p: { name: string }) => p.name);
    expect(list).toEqual(expect.arrayContaining(['tenant_id', 'state', 'limit', 'cursor']));
  });
});
