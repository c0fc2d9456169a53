// The MCP conformance suite imports `globSync` from "fs", which Node 20 lacks (added in 22).
// Loaded with `node --import`, this registers a resolve hook that gives such imports a module
// with the missing function. On Node 22 and later it does nothing.
import { register } from 'node:module';

const major = Number(process.versions.node.split('.')[0]);
if (major < 22) {
  register('./hooks.mjs', import.meta.url);
}
