// Raw argon2id throughput with no HTTP at all: one process (like one dashboard-auth), libuv's default
// thread pool (dashboard-auth does not resize it), BENCH_CONCURRENCY verifications in flight, for
// BENCH_DURATION_MS or BENCH_MAX_VERIFIES, whichever comes first. Prints one JSON line on stdout.
import { performance } from "node:perf_hooks";
import { ARGON2_OPTIONS, argon2 } from "./deps";

const durationMs = Number(process.env.BENCH_DURATION_MS ?? 5000);
const concurrency = Number(process.env.BENCH_CONCURRENCY ?? 50);
const maxVerifies = Number(process.env.BENCH_MAX_VERIFIES ?? 100_000);
const password = "correct horse battery staple";
const hash = await argon2.hash(password, ARGON2_OPTIONS);

// Warm-up: load the binding and let the thread pool start.
await Promise.all(Array.from({ length: 4 }, () => argon2.verify(hash, password)));

const latencies: number[] = [];
let started = 0;
const start = performance.now();
const deadline = start + durationMs;

async function worker(): Promise<void> {
  while (performance.now() < deadline && started < maxVerifies) {
    started += 1;
    const t0 = performance.now();
    const ok = await argon2.verify(hash, password);
    if (!ok) throw new Error("argon2 verification failed");
    latencies.push(performance.now() - t0);
  }
}

await Promise.all(Array.from({ length: concurrency }, worker));
const seconds = (performance.now() - start) / 1000;
latencies.sort((a, b) => a - b);
const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0;
process.stdout.write(
  `${JSON.stringify({
    verifies: latencies.length,
    seconds,
    perSecond: latencies.length / seconds,
    p50Ms: at(0.5),
    p99Ms: at(0.99),
    threadPool: Number(process.env.UV_THREADPOOL_SIZE ?? 4),
  })}\n`,
);
