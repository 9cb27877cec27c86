// `npm test`: type-check every project, lint (module boundaries), then run every Jest project (unit specs and the
// end-to-end suites in test/), then print the plain "N passed, N failed" line CI reads.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';

const run = (cmd, args) => spawnSync(cmd, args, { stdio: 'inherit' }).status ?? 1;

const tsc = run('npx', ['tsc', '-b']);
if (tsc !== 0) {
  console.log('\n0 passed, 1 failed (type check)');
  process.exit(tsc);
}
// The Nx module-boundary rule needs the project graph, which `nx show projects` computes.
const lint = run('npx', ['nx', 'show', 'projects']) === 0 ? run('npx', ['eslint', '.', '--quiet']) : 1;
if (lint !== 0) {
  console.log('\n0 passed, 1 failed (lint)');
  process.exit(lint);
}
const out = '.jest-results.json';
rmSync(out, { force: true });
// --forceExit: a test app that could not close (reported by its suite) must not keep CI waiting.
const status = run('npx', ['jest', '--json', `--outputFile=${out}`, '--forceExit', ...process.argv.slice(2)]);
if (existsSync(out)) {
  const r = JSON.parse(readFileSync(out, 'utf8'));
  const failed = r.numFailedTests + (r.numRuntimeErrorTestSuites ?? 0);
  console.log(`\n${r.numPassedTests} passed, ${failed} failed${r.numPendingTests ? `, ${r.numPendingTests} skipped` : ''}`);
}
process.exit(status);
