// The shapes a run records, and the table it prints.
import type { LoadResult } from "./load";
import type { ProfileSummary } from "./profile";

export interface Measured extends LoadResult {
  /** What was driven: the service endpoint or the baseline route. */
  label: string;
  connections: number;
  /** The fixed request rate, when the window had one. */
  overallRate?: number;
  /** Highest RSS of the server process seen during the window (sampled every 100 ms), MB. */
  peakRssMb: number | null;
  /**
   * CPU time the server process used during the window (all its threads), per answered request, in ms,
   * and as cores (CPU time ÷ wall time). Less sensitive to drift than req/s: a busy neighbour slows the
   * server down but hardly changes what one request costs.
   */
  serverCpuMsPerRequest: number | null;
  serverCores: number | null;
  /** The same for the server's main thread alone (the event loop): the rest is libuv's pool and V8's threads. */
  mainThreadCpuMsPerRequest: number | null;
  mainThreadCores: number | null;
  /** The same for every Postgres process of the machine (null when several loads shared the window). */
  postgresCpuMsPerRequest: number | null;
  postgresCores: number;
  /** CPU used by the load generator (this process), as cores. */
  loadGeneratorCores: number;
  /**
   * CPU used during the window by everything else on the machine (not the servers, Postgres or the load
   * generator), as cores: above ~0.2 a neighbour competed for the 2 cores and the window is suspect.
   */
  otherCores: number;
}

export interface ScenarioRecord {
  id: string;
  title: string;
  baseline: Measured | null;
  service: Measured;
  /** service 2xx/s ÷ baseline 2xx/s. */
  ratio: number | null;
  target: string;
  /** Whether the target was met; null when there is no target to meet. */
  met: boolean | null;
  /** Another process used a noticeable share of the CPUs during a window: the verdict is unreliable. */
  suspect: boolean;
  /** Other windows measured at the same time (e.g. the logins during a login storm). */
  concurrent?: Measured[];
  notes: string[];
}

export interface MemoryRecord {
  service: string;
  idleRssMb: number | null;
  /** Highest RSS seen during any measured window. */
  peakRssMb: number | null;
  /** VmHWM at the end of the run: the peak since the process started. */
  hwmMb: number | null;
  met: boolean | null;
  /** The service's own metrics at the end of the run: how much of the RSS is the JavaScript heap. */
  atEnd: {
    rssMb: number | null;
    heapTotalMb: number | null;
    heapUsedMb: number | null;
    externalMb: number | null;
  } | null;
}

export interface BenchReport {
  version: 1;
  startedAt: string;
  finishedAt: string;
  command: string;
  machine: Record<string, string | number>;
  settings: Record<string, string | number | boolean>;
  checks: Array<{ what: string; ok: boolean; detail: string }>;
  scenarios: ScenarioRecord[];
  memory: MemoryRecord[];
  argon2Raw: { verifies: number; seconds: number; perSecond: number; p50Ms: number; p99Ms: number } | null;
  /** Refused logins: median time for an unknown e-mail and for a wrong password, and their ratio. */
  loginTiming: { rounds: number; unknownMedianMs: number; wrongMedianMs: number; ratio: number; met: boolean } | null;
  /** Code sends by email: median time to an address never seen and to a known person's, and their ratio. */
  otpTiming: { rounds: number; unknownMedianMs: number; knownMedianMs: number; ratio: number; met: boolean } | null;
  rotationPropagation: { file: string; figures: unknown } | { file: string; missing: true };
  skipped: Array<{ scenario: string; why: string }>;
  profiles?: Record<string, ProfileSummary>;
}

const fmt = (value: number | null | undefined, digits = 0) =>
  value === null || value === undefined || Number.isNaN(value) ? "-" : value.toFixed(digits);

function row(cells: string[], widths: number[]): string {
  return cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join("  ");
}

/**
 * The figures of the sync tests' rotation-propagation file, whatever else it holds: every member that has
 * percentiles, and the count and date when present.
 */
function rotationLines(figures: unknown): string {
  if (typeof figures !== "object" || figures === null) return `  ${JSON.stringify(figures)}`;
  const lines: string[] = [];
  const record = figures as Record<string, unknown>;
  const about = ["measuredAt", "rotations", "instances", "unit"].filter((k) => record[k] !== undefined);
  if (about.length > 0) lines.push(`  ${about.map((k) => `${k} ${String(record[k])}`).join(", ")}`);
  for (const [name, value] of Object.entries(record)) {
    if (typeof value !== "object" || value === null || !("p99" in value)) continue;
    const v = value as Record<string, unknown>;
    const parts = ["p50", "p99", "min", "max"].filter((k) => typeof v[k] === "number").map((k) => `${k} ${v[k]}`);
    lines.push(`  ${name}: ${parts.join(", ")}`);
  }
  return lines.length > 0 ? lines.join("\n") : `  ${JSON.stringify(figures).slice(0, 300)}`;
}

/** The report as a plain-text table, one block per scenario. */
export function renderTable(report: BenchReport): string {
  const widths = [44, 8, 7, 7, 7, 7, 6, 7, 8, 8, 7, 6];
  const lines: string[] = [];
  lines.push(
    row(
      [
        "scenario / side",
        "2xx/s",
        "p50 ms",
        "p99 ms",
        "max ms",
        "non2xx",
        "errors",
        "RSS MB",
        "CPU ms/r",
        "PG ms/r",
        "other",
      ],
      widths,
    ),
  );
  lines.push("-".repeat(widths.reduce((a, b) => a + b + 2, 0)));
  const side = (prefix: string, m: Measured) =>
    row(
      [
        `${prefix}${m.label}${m.overallRate ? ` @${m.overallRate}/s` : ""}`.slice(0, widths[0]),
        fmt(m.okPerSecond),
        fmt(m.latencyMs.p50, 1),
        fmt(m.latencyMs.p99, 1),
        fmt(m.latencyMs.max, 0),
        String(m.non2xx),
        String(m.errors + m.timeouts),
        fmt(m.peakRssMb),
        fmt(m.serverCpuMsPerRequest, 3),
        fmt(m.mainThreadCpuMsPerRequest, 3),
        fmt(m.postgresCpuMsPerRequest, 3),
        fmt(m.otherCores, 2),
      ],
      widths,
    );
  for (const s of report.scenarios) {
    lines.push(`${s.id}  ${s.title}`);
    if (s.baseline) lines.push(side("  baseline  ", s.baseline));
    lines.push(side("  service   ", s.service));
    for (const c of s.concurrent ?? []) lines.push(side("  meanwhile ", c));
    const verdict = `${s.met === null ? "" : s.met ? "met" : "MISSED"}${s.suspect ? " (suspect: see below)" : ""}`;
    const ratio = s.ratio === null ? "" : `ratio ${(s.ratio * 100).toFixed(1)}%  `;
    lines.push(`  => ${ratio}target ${s.target}  ${verdict}`);
    for (const note of s.notes) lines.push(`     ${note}`);
  }
  lines.push(
    "CPU ms/r: the server's CPU time (all threads) per answered request; main ms/r: its main thread's " +
      "(the event loop); PG ms/r: Postgres's; " +
      "other: cores used meanwhile by other processes (above 0.2, a neighbour competed for the CPUs)",
  );
  lines.push("");
  lines.push("memory (target: idle < 150 MB, load < 300 MB)");
  for (const m of report.memory) {
    const verdict = m.met === null ? "" : m.met ? "met" : "MISSED";
    lines.push(
      `  ${m.service.padEnd(16)} idle ${fmt(m.idleRssMb)} MB   peak under load ${fmt(m.peakRssMb)} MB   VmHWM ${fmt(m.hwmMb)} MB  ${verdict}`,
    );
    if (m.atEnd) {
      lines.push(
        `  ${"".padEnd(16)} at the end: RSS ${fmt(m.atEnd.rssMb)} MB, of which JS heap ${fmt(m.atEnd.heapTotalMb)} MB ` +
          `(${fmt(m.atEnd.heapUsedMb)} MB used), external ${fmt(m.atEnd.externalMb)} MB`,
      );
    }
  }
  if (report.argon2Raw) {
    const a = report.argon2Raw;
    lines.push(
      `raw argon2id (no HTTP, one process): ${fmt(a.perSecond, 1)} verifies/s, p50 ${fmt(a.p50Ms, 1)} ms, p99 ${fmt(a.p99Ms, 1)} ms`,
    );
  }
  if (report.loginTiming) {
    const t = report.loginTiming;
    lines.push(
      `refused logins over ${t.rounds} rounds: unknown e-mail median ${fmt(t.unknownMedianMs, 1)} ms, wrong password ` +
        `${fmt(t.wrongMedianMs, 1)} ms, ratio ${fmt(t.ratio, 2)} (target 0.80–1.25: ${t.met ? "met" : "MISSED"})`,
    );
  }
  if (report.otpTiming) {
    const t = report.otpTiming;
    lines.push(
      `code sends over ${t.rounds} rounds: new address median ${fmt(t.unknownMedianMs, 1)} ms, known person ` +
        `${fmt(t.knownMedianMs, 1)} ms, ratio ${fmt(t.ratio, 2)} (target 0.80–1.25: ${t.met ? "met" : "MISSED"})`,
    );
  }
  const rotation = report.rotationPropagation;
  lines.push(
    "missing" in rotation
      ? `rotation propagation: ${rotation.file} not found (written by the sync tests; run them first)`
      : `rotation propagation (from ${rotation.file}, target p99 < 100 ms):\n${rotationLines(rotation.figures)}`,
  );
  for (const s of report.skipped) lines.push(`skipped ${s.scenario}: ${s.why}`);
  for (const c of report.checks.filter((check) => !check.ok)) lines.push(`CHECK FAILED ${c.what}: ${c.detail}`);
  if (report.profiles) {
    for (const [name, p] of Object.entries(report.profiles)) {
      lines.push("");
      lines.push(
        `profile ${name}: ${p.samples} samples, ${(p.idleShare * 100).toFixed(0)}% idle; self time of the busy part:`,
      );
      for (const m of p.topModules.slice(0, 8)) lines.push(`  ${(m.share * 100).toFixed(1).padStart(5)}%  ${m.name}`);
      const list = (entries: Array<{ name: string; share: number }>) => {
        for (const e of entries.slice(0, 12)) lines.push(`  ${(e.share * 100).toFixed(1).padStart(5)}%  ${e.name}`);
      };
      lines.push("  top functions (self time):");
      list(p.topFunctions);
      lines.push("  this project's functions (inclusive time):");
      list(p.topOwnInclusive);
    }
  }
  return lines.join("\n");
}
