// Latencies the tests measure (propagation of changes between instances) and hand to the benchmark
// report through test-results/. Only generous bounds are asserted on them: test machines are noisy.
import { mkdir, writeFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";

const RESULTS = fileURLToPath(new URL("../../../test-results/", import.meta.url));

/** Nearest-rank percentile of sorted samples. */
export function percentile(sorted: readonly number[], p: number): number {
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[Math.min(rank, sorted.length) - 1] ?? Number.NaN;
}

/** p50, p99, min and max, rounded to hundredths. */
export function latencySummary(samples: readonly number[]) {
  const sorted = [...samples].sort((a, b) => a - b);
  const round = (n: number) => Math.round(n * 100) / 100;
  return {
    p50: round(percentile(sorted, 50)),
    p99: round(percentile(sorted, 99)),
    min: round(sorted[0] ?? Number.NaN),
    max: round(sorted.at(-1) ?? Number.NaN),
  };
}

/** Writes `test-results/<name>.json` for the benchmark report. */
export async function recordResult(name: string, result: unknown): Promise<void> {
  await mkdir(RESULTS, { recursive: true });
  await writeFile(`${RESULTS}${name}.json`, `${JSON.stringify(result, null, 2)}\n`);
}
