/** BENCHMARKS.md's real-shape section from bench/real.json (see report.mjs). */
export function realMarkdown(results: Record<string, unknown>): string;
