// Resolve hook: "fs" and "node:fs" resolve to fs-with-globsync.mjs, except for that module's
// own import of the real builtin.
const replacement = new URL('./fs-with-globsync.mjs', import.meta.url).href;

export async function resolve(specifier, context, nextResolve) {
  if ((specifier === 'fs' || specifier === 'node:fs') && context.parentURL !== replacement) {
    return { url: replacement, shortCircuit: true };
  }
  return nextResolve(specifier, context);
}
