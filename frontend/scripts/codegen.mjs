// Runs GraphQL Code Generator quietly: one line on success, its full report on failure
// (a schema change that breaks an operation stops the build here, with the reason).
import { spawnSync } from 'node:child_process';

const r = spawnSync('graphql-codegen', ['--config', 'codegen.ts', ...process.argv.slice(2)], {
  encoding: 'utf8',
  shell: process.platform === 'win32',
});
if (r.status === 0) {
  console.log(`codegen: operations match ${process.env.OBSERVATORY_SCHEMA ?? '../schema.graphql'}`);
} else {
  process.stdout.write(r.stdout ?? '');
  process.stderr.write(r.stderr ?? '');
  if (r.error) console.error(r.error.message);
}
process.exit(r.status ?? 1);
