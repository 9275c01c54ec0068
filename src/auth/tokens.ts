// Bearer JWTs: HS256 only, `exp` required (jose checks it only when present), roles validated.
import { SignJWT, jwtVerify, errors as joseErrors } from 'jose';
import { z } from 'zod';
import { UnauthorizedError } from '../platform/errors.ts';

export const ROLES = ['platform_admin', 'finance', 'tenant_admin', 'tenant_member', 'llm_gateway'] as const;
export type Role = (typeof ROLES)[number];

export interface Principal {
  sub: string;
  tenantId: string | null;
  roles: Role[];
}

const claims = z.object({
  sub: z.string().min(1),
  tenant_id: z.string().min(1).nullish(),
  roles: z.array(z.enum(ROLES)).min(1),
});

const key = (secret: string) => new TextEncoder().encode(secret);

export async function verifyAccessToken(token: string, secret: string, options: { issuer?: string | undefined } = {}): Promise<Principal> {
  return (await verifyWithExpiry(token, secret, options)).principal;
}

async function verifyWithExpiry(token: string, secret: string, options: { issuer?: string | undefined }): Promise<{ principal: Principal; expMs: number }> {
  try {
    const { payload } = await jwtVerify(token, key(secret), {
      algorithms: ['HS256'],
      requiredClaims: ['exp', 'sub'],
      ...(options.issuer ? { issuer: options.issuer } : {}),
    });
    const parsed = claims.safeParse(payload);
    if (!parsed.success) throw new UnauthorizedError('token claims are invalid: sub, roles (and tenant_id for tenant roles) are required');
    return { principal: { sub: parsed.data.sub, tenantId: parsed.data.tenant_id ?? null, roles: parsed.data.roles }, expMs: payload.exp! * 1000 };
  } catch (error) {
    if (error instanceof UnauthorizedError) throw error;
    if (error instanceof joseErrors.JWTExpired) throw new UnauthorizedError('token has expired');
    throw new UnauthorizedError('token is invalid');
  }
}

/**
 * verifyAccessToken with a cache of the tokens already verified, until each one's `exp`: a
 * gateway sends thousands of requests a second with one token, and an HMAC check through
 * WebCrypto per request was a visible share of the intake's CPU (bench:intake). Only valid tokens
 * are cached; an expired one is verified again, and so refused. The oldest entries go first.
 */
export function accessTokenVerifier(secret: string, options: { issuer?: string | undefined } = {}, maxEntries = 10_000): (token: string) => Promise<Principal> {
  const verified = new Map<string, { principal: Principal; expMs: number }>();
  return async (token) => {
    const hit = verified.get(token);
    if (hit && hit.expMs > Date.now()) return hit.principal;
    verified.delete(token);
    const fresh = await verifyWithExpiry(token, secret, options);
    Object.freeze(fresh.principal.roles);
    verified.set(token, { principal: Object.freeze(fresh.principal), expMs: fresh.expMs });
    if (verified.size > maxEntries) verified.delete(verified.keys().next().value!);
    return fresh.principal;
  };
}

export async function signAccessToken(
  principal: { sub: string; tenantId?: string | null; roles: Role[] },
  secret: string,
  options: { ttlSeconds?: number; issuer?: string | undefined } = {},
): Promise<string> {
  const jwt = new SignJWT({ tenant_id: principal.tenantId ?? null, roles: principal.roles })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(principal.sub)
    .setIssuedAt()
    .setExpirationTime(`${options.ttlSeconds ?? 3600}s`);
  if (options.issuer) jwt.setIssuer(options.issuer);
  return jwt.sign(key(secret));
}

/** platform_admin and finance see every tenant; everyone else only their own. */
export function seesAllTenants(principal: Principal): boolean {
  return principal.roles.includes('platform_admin') || principal.roles.includes('finance');
}
