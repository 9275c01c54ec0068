// npm run db:migrate — applies pending migrations (embedded PostgreSQL when DATABASE_URL is unset).
import { config } from '../src/platform/config.ts';
import { resolveDatabase } from '../src/platform/database.ts';
import { migrate } from '../src/platform/migrate.ts';
import { exitOnStartupError } from '../src/platform/runtime.ts';

try {
  const db = await resolveDatabase(config());
  try {
    const result = await migrate(db.url);
    for (const name of result.applied) console.log(`applied ${name}`);
    console.log(`${result.applied.length} applied, ${result.alreadyApplied.length} already applied`);
  } finally {
    await db.release();
  }
} catch (error) {
  exitOnStartupError(error);
}
