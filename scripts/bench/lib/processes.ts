// Child processes of a benchmark run (the services and the baselines), their readiness, and their memory.
import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { createServer } from "node:net";

export interface Child {
  name: string;
  pid: number;
  process: ChildProcess;
  /** The last lines the child wrote (stdout and stderr), for error messages. */
  tail(): string;
  /** SIGTERM, then SIGKILL if it has not exited after `graceMs`. Resolves with the exit code. */
  stop(graceMs?: number): Promise<number | null>;
  exited: Promise<number | null>;
}

const TAIL_LINES = 40;

/**
 * Starts `node --import tsx <script>` with exactly `env` (plus PATH and HOME), from the repository root; a
 * `.mjs` script (a service's bundle) is plain JavaScript and runs without tsx, as in production.
 */
export function startNode(
  name: string,
  script: string,
  env: Record<string, string>,
  options: { cwd: string; nodeArgs?: string[] },
): Child {
  const loader = script.endsWith(".mjs") ? [] : ["--import", "tsx"];
  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), ...loader, script], {
    cwd: options.cwd,
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: process.env.HOME ?? "/tmp", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  if (child.pid === undefined) throw new Error(`could not start ${name}`);
  const lines: string[] = [];
  const keep = (chunk: Buffer) => {
    for (const line of chunk.toString("utf8").split("\n")) {
      if (line.trim() === "") continue;
      lines.push(line);
      if (lines.length > TAIL_LINES) lines.shift();
    }
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  return {
    name,
    pid: child.pid,
    process: child,
    tail: () => lines.join("\n"),
    exited,
    async stop(graceMs = 15_000) {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (address === null || typeof address === "string") throw new Error("no free port");
  return address.port;
}

/** Polls `url` until it answers 200, the child exits, or `timeoutMs` passes. */
export async function waitReady(child: Child, url: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exitCode: number | null | undefined;
  void child.exited.then((code) => {
    exitCode = code;
  });
  let last = "no answer yet";
  while (Date.now() < deadline) {
    if (exitCode !== undefined)
      throw new Error(`${child.name} exited (${exitCode}) before it was ready:\n${child.tail()}`);
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2_000) });
      if (res.ok) return;
      last = `${res.status} ${await res.text()}`;
    } catch (error) {
      last = String(error);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`${child.name} not ready at ${url} after ${timeoutMs} ms (${last}):\n${child.tail()}`);
}

export interface Memory {
  /** Resident set size now, MB. */
  rssMb: number;
  /** Peak resident set size since the process started (VmHWM), MB. */
  hwmMb: number;
}

/** RSS and its high-water mark from /proc/<pid>/status (Linux), or null when the process is gone. */
export function memoryOf(pid: number): Memory | null {
  let status: string;
  try {
    status = readFileSync(`/proc/${pid}/status`, "utf8");
  } catch {
    return null;
  }
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? Number.NaN);
  return { rssMb: kb("VmRSS") / 1024, hwmMb: kb("VmHWM") / 1024 };
}

/**
 * Samples the RSS of some processes every `intervalMs` while a measurement runs, so each window reports
 * its own peak (VmHWM only ever grows, so it cannot tell which scenario set it).
 */
export class RssSampler {
  readonly #peaks = new Map<number, number>();
  #timer: NodeJS.Timeout | undefined;

  start(pids: number[], intervalMs = 100): void {
    this.stop();
    this.#peaks.clear();
    const sample = () => {
      for (const pid of pids) {
        const memory = memoryOf(pid);
        if (memory) this.#peaks.set(pid, Math.max(this.#peaks.get(pid) ?? 0, memory.rssMb));
      }
    };
    sample();
    this.#timer = setInterval(sample, intervalMs);
  }

  /** Stops sampling; returns the peak RSS (MB) seen for each pid. */
  stop(): Map<number, number> {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    return new Map(this.#peaks);
  }
}

/** Clock ticks per second of /proc/<pid>/stat (USER_HZ: 100 on every Linux this runs on). */
const CLOCK_TICKS_PER_SECOND = 100;

/**
 * CPU time (user + system) a process has used, in ms, or null when it is gone: all its threads, or with
 * `mainThreadOnly` just the main thread (for Node, the event loop; the others are libuv's pool and V8's).
 */
export function cpuMsOf(pid: number, mainThreadOnly = false): number | null {
  let stat: string;
  try {
    stat = readFileSync(mainThreadOnly ? `/proc/${pid}/task/${pid}/stat` : `/proc/${pid}/stat`, "utf8");
  } catch {
    return null;
  }
  // The command name (field 2) may hold spaces; the fields after its closing parenthesis are fixed.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const user = Number(fields[11]);
  const system = Number(fields[12]);
  return ((user + system) * 1000) / CLOCK_TICKS_PER_SECOND;
}

/** Busy and total CPU time of the whole machine so far, in ms (all CPUs), from /proc/stat. */
export function machineCpuMs(): { busy: number; total: number } {
  const line = readFileSync("/proc/stat", "utf8").split("\n")[0] ?? "";
  const values = line.trim().split(/\s+/).slice(1, 9).map(Number);
  const total = values.reduce((a, b) => a + b, 0);
  const idle = (values[3] ?? 0) + (values[4] ?? 0);
  return { busy: ((total - idle) * 1000) / CLOCK_TICKS_PER_SECOND, total: (total * 1000) / CLOCK_TICKS_PER_SECOND };
}

/** Busy share of all CPUs over `ms` milliseconds: how loaded the machine is before a run. */
export async function machineBusyShare(ms = 1000): Promise<number> {
  const a = machineCpuMs();
  await new Promise((resolve) => setTimeout(resolve, ms));
  const b = machineCpuMs();
  const total = b.total - a.total;
  return total <= 0 ? 0 : (b.busy - a.busy) / total;
}

/** CPU time used so far by each of `pids`, in ms (a process that is gone counts 0). */
export function cpuMsOfEach(pids: readonly number[]): Map<number, number> {
  return new Map(pids.map((pid) => [pid, cpuMsOf(pid) ?? 0]));
}

/**
 * Waits until `pids` together use less than `maxCores` for a 250 ms stretch, or `timeoutMs` passes. When a
 * load generator stops, the requests already queued in a server are still processed (50 queued logins are
 * seconds of argon2): measuring the next window before they drain would charge that work to it.
 */
export async function settle(pids: readonly number[], timeoutMs = 15_000, maxCores = 0.05): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const before = cpuMsOfEach(pids);
    const start = Date.now();
    await new Promise((resolve) => setTimeout(resolve, 250));
    const after = cpuMsOfEach(pids);
    let used = 0;
    for (const pid of pids) used += (after.get(pid) ?? 0) - (before.get(pid) ?? 0);
    if (used / (Date.now() - start) < maxCores) return true;
  }
  return false;
}
