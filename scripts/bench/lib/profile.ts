// Reads the V8 CPU profiles written by `node --cpu-prof` and says where the time went, counting only the
// samples taken inside given time windows (the measured load windows), so start-up and idle time do not
// blur the picture.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}

interface CpuProfile {
  nodes: Array<{ id: number; callFrame: CallFrame; children?: number[] }>;
  startTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** A window in microseconds of the monotonic clock, which V8's profile timestamps also use (Linux). */
export interface Window {
  startUs: number;
  endUs: number;
}

export interface ProfileEntry {
  name: string;
  /** Share of the busy (non-idle) samples in the windows, 0..1. */
  share: number;
}

export interface ProfileSummary {
  file: string;
  samples: number;
  /** Share of all samples in the windows when the process was idle (waiting on I/O). */
  idleShare: number;
  /** Self time by function. */
  topFunctions: ProfileEntry[];
  /** Self time by package (or workspace folder, Node internals, native code, garbage collector). */
  topModules: ProfileEntry[];
  /** Inclusive time (the function and what it calls) of this project's own functions (services/, packages/). */
  topOwnInclusive: ProfileEntry[];
}

/** Microseconds on the monotonic clock, comparable with the profile's sample times. */
export function monotonicUs(): number {
  return Number(process.hrtime.bigint() / 1000n);
}

/** The module a frame belongs to: a package name, a workspace path, a Node internal, or a V8 pseudo-frame. */
function moduleOf(frame: CallFrame): string {
  const { url, functionName } = frame;
  if (url === "") return functionName.startsWith("(") ? functionName : "(native)";
  if (url.startsWith("node:")) return "node internals";
  const pnpm = /node_modules\/\.pnpm\/[^/]+\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url);
  if (pnpm?.[1]) return pnpm[1];
  const plain = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url);
  if (plain?.[1]) return plain[1];
  const workspace = /\/((?:services|packages)\/[^/]+)\//.exec(url);
  if (workspace?.[1]) return workspace[1];
  return url.replace(/^file:\/\//, "");
}

function frameName(frame: CallFrame): string {
  const where =
    frame.url === ""
      ? ""
      : ` ${frame.url.replace(/^.*\/node_modules\//, "").replace(/^file:\/\/.*?\/(services|packages)\//, "$1/")}:${frame.lineNumber + 1}`;
  return `${frame.functionName || "(anonymous)"}${where}`;
}

function top(counts: Map<string, number>, total: number, n: number): ProfileEntry[] {
  return [...counts.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([name, count]) => ({ name, share: total === 0 ? 0 : count / total }));
}

export function summarizeProfile(file: string, windows: Window[], n = 15): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, "utf8")) as CpuProfile;
  const frames = new Map(profile.nodes.map((node) => [node.id, node.callFrame]));
  const parents = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parents.set(child, node.id);
  const ownInclusive = new Map<string, number>();
  const byFunction = new Map<string, number>();
  const byModule = new Map<string, number>();
  let time = profile.startTime;
  let inWindows = 0;
  let idle = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    time += profile.timeDeltas[i] ?? 0;
    if (windows.length > 0 && !windows.some((w) => time >= w.startUs && time <= w.endUs)) continue;
    const frame = frames.get(profile.samples[i] ?? -1);
    if (!frame) continue;
    inWindows += 1;
    if (frame.functionName === "(idle)") {
      idle += 1;
      continue;
    }
    const name = frameName(frame);
    byFunction.set(name, (byFunction.get(name) ?? 0) + 1);
    const module = moduleOf(frame);
    byModule.set(module, (byModule.get(module) ?? 0) + 1);
    // Each of our functions on the stack counts once per sample, however deep it recurses.
    const seen = new Set<string>();
    for (let id: number | undefined = profile.samples[i]; id !== undefined; id = parents.get(id)) {
      const f = frames.get(id);
      if (!f || !/\/(services|packages)\//.test(f.url) || f.url.includes("node_modules")) continue;
      const own = frameName(f);
      if (seen.has(own)) continue;
      seen.add(own);
      ownInclusive.set(own, (ownInclusive.get(own) ?? 0) + 1);
    }
  }
  const busy = inWindows - idle;
  return {
    file,
    samples: inWindows,
    idleShare: inWindows === 0 ? 0 : idle / inWindows,
    topFunctions: top(byFunction, busy, n),
    topModules: top(byModule, busy, n),
    topOwnInclusive: top(ownInclusive, busy, n),
  };
}

/** The profiles `node --cpu-prof --cpu-prof-dir=dir` wrote there. */
export function profilesIn(dir: string): string[] {
  try {
    return readdirSync(dir)
      .filter((f) => f.endsWith(".cpuprofile"))
      .map((f) => join(dir, f));
  } catch {
    return [];
  }
}
