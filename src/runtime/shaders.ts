// WGSL sources come from src/kernels/*.wgsl in every runtime. How the text is found is
// platform business: Node reads the files beside this package, the browser bundle
// inlines them at build time (tools/build.ts). Nothing here holds shader text.
export type ShaderLoader = (name: string) => string;

let loader: ShaderLoader | undefined;
const cache = new Map<string, string>();

export function setShaderLoader(load: ShaderLoader): void {
  loader = load;
  cache.clear();
}

/**
 * The WGSL of src/kernels/<name>.wgsl with its `#include "lib/x"` lines replaced by
 * src/kernels/lib/x.wgsl (WGSL has no modules; shared functions such as the tanh GELU are
 * written once). Each file is included at most once per shader.
 */
export function shaderSource(name: string): string {
  let text = cache.get(name);
  if (text === undefined) {
    text = expand(name, new Set());
    cache.set(name, text);
  }
  return text;
}

function expand(name: string, seen: Set<string>): string {
  if (!loader) throw new Error('musiq: no WGSL loader installed (import the package entry point, not src/runtime directly)');
  seen.add(name);
  return loader(name).replace(/^[ \t]*#include\s+"([\w/.-]+)"[ \t]*$/gm, (_, inc: string) => (seen.has(inc) ? '' : expand(inc, seen)));
}
