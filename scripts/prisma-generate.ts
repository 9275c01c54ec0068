// `prisma generate` wants a schema engine binary it cannot download here; it never runs it for
// generate, so any existing file satisfies the check. Runs on `npm ci` (postinstall).
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const env = {
  ...process.env,
  PRISMA_SCHEMA_ENGINE_BINARY: process.env.PRISMA_SCHEMA_ENGINE_BINARY ?? process.execPath,
  PRISMA_HIDE_UPDATE_MESSAGE: '1',
  CHECKPOINT_DISABLE: '1',
};
const result = spawnSync(
  process.execPath,
  [fileURLToPath(import.meta.resolve('prisma/build/index.js')), 'generate', '--schema', 'prisma/schema.prisma'],
  { cwd: root, env, stdio: 'inherit' },
);
process.exit(result.status ?? 1);
