/**
 * Where the bundled demo (model, tokenizer, dataset) is served: public/demo/ next to the page.
 * VITE_DEMO_BASE points elsewhere (a folder under the project root) for development.
 */
export function demoPath(): string {
  const env = (import.meta as ImportMeta & { env?: Record<string, string | undefined> }).env;
  return env?.VITE_DEMO_BASE || `${env?.BASE_URL ?? '/'}demo/`;
}

/** The demo folder as an absolute URL, from the page or the worker. */
export function demoUrl(file = ''): string {
  return new URL(demoPath() + file, self.location.href).href;
}
