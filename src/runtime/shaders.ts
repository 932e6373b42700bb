// WGSL sources come from src/kernels/*.wgsl in every runtime. How the text is found is
// platform business: Node reads the files beside this package, the browser bundle
// inlines them at build time (tools/build-browser.ts). Nothing here holds shader text.
export type ShaderLoader = (name: string) => string;

let loader: ShaderLoader | undefined;
const cache = new Map<string, string>();

export function setShaderLoader(load: ShaderLoader): void {
  loader = load;
  cache.clear();
}

export function shaderSource(name: string): string {
  let text = cache.get(name);
  if (text === undefined) {
    if (!loader) throw new Error('musiq: no WGSL loader installed (import the package entry point, not src/runtime directly)');
    text = loader(name);
    cache.set(name, text);
  }
  return text;
}
