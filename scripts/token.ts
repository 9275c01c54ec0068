// npm run token -- --role finance [--tenant <id>] [--sub <name>] [--ttl 3600]
import { parseArgs } from 'node:util';
import { ROLES, signAccessToken, type Role } from '../src/auth/tokens.ts';
import { config as loadConfig, type Config } from '../src/platform/config.ts';
import { exitOnStartupError } from '../src/platform/runtime.ts';

const { values } = parseArgs({
  options: {
    role: { type: 'string', multiple: true },
    tenant: { type: 'string' },
    sub: { type: 'string', default: 'local-user' },
    ttl: { type: 'string', default: '3600' },
  },
});
const roles = values.role ?? [];
const unknown = roles.filter((r) => !(ROLES as readonly string[]).includes(r));
if (roles.length === 0 || unknown.length > 0) {
  console.error(`--role is required, one or more of: ${ROLES.join(', ')}${unknown.length ? ` (unknown: ${unknown.join(', ')})` : ''}`);
  process.exit(2);
}
const ttlSeconds = Number.parseInt(values.ttl, 10);
if (!Number.isSafeInteger(ttlSeconds) || ttlSeconds <= 0) {
  console.error('--ttl must be a positive number of seconds');
  process.exit(2);
}
let config: Config;
try {
  config = loadConfig();
} catch (error) {
  exitOnStartupError(error);
}
console.log(await signAccessToken({ sub: values.sub, tenantId: values.tenant ?? null, roles: roles as Role[] }, config.AUTH_JWT_SECRET, { ttlSeconds, issuer: config.AUTH_JWT_ISSUER }));
