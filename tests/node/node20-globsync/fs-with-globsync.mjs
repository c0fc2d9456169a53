// Everything of node:fs, plus globSync(pattern, { cwd }) implemented with the `glob` package.
import * as fs from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const glob = require('glob');

export * from 'node:fs';
export default fs.default;

export function globSync(pattern, options = {}) {
  return glob.globSync(pattern, { cwd: options.cwd ?? process.cwd() });
}
