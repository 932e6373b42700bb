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
 * written once). Each file is included at most once per shader. `swaps` maps an include to
 * the file used in its place (a kernel body over another storage type).
 */
export function shaderSource(name: string, swaps: Record<string, string> = {}): string {
  const key = `${name}:${JSON.stringify(swaps)}`;
  let text = cache.get(key);
  if (text === undefined) {
    text = expand(name, new Set(), swaps);
    cache.set(key, text);
  }
  return text;
}

function expand(name: string, seen: Set<string>, swaps: Record<string, string>): string {
  if (!loader) throw new Error('musiq: no WGSL loader installed (import the package entry point, not src/runtime directly)');
  seen.add(name);
  return loader(name).replace(/^[ \t]*#include\s+"([\w/.-]+)"[ \t]*$/gm, (_, inc: string) => {
    const file = swaps[inc] ?? inc;
    return seen.has(file) ? '' : expand(file, seen, swaps);
  });
}
