import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { waitFor } from "@ipaas/testing";
import { afterEach, describe, expect, it } from "vitest";

const ENTRY = fileURLToPath(new URL("./fixtures/bare-service.ts", import.meta.url));
const ENV_EXAMPLE = fileURLToPath(new URL("../../../.env.example", import.meta.url));

interface Started {
  child: ChildProcess;
  output: { stdout: string; stderr: string };
  exited: Promise<number | null>;
}

const children: ChildProcess[] = [];
afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill("SIGKILL");
});

/** Server addresses a service started alone needs (the bare service connects to neither). */
const SERVERS = { DATABASE_URL: "postgres://127.0.0.1:1/unused", NATS_URL: "nats://127.0.0.1:1" };

/** Starts the bare service with exactly `env` (plus PATH and SERVERS): no inherited NODE_ENV or MASTER_KEY. */
function start(env: Record<string, string>): Started {
  const child = spawn(process.execPath, ["--import", "tsx", ENTRY], {
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", ENV_FILE: "none", ...SERVERS, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.push(child);
  const output = { stdout: "", stderr: "" };
  child.stdout?.on("data", (d: Buffer) => {
    output.stdout += d.toString();
  });
  child.stderr?.on("data", (d: Buffer) => {
    output.stderr += d.toString();
  });
  return { child, output, exited: new Promise((resolve) => child.on("exit", resolve)) };
}

function logLines(stdout: string): Array<Record<string, unknown>> {
  return stdout
    .split("\n")
    .filter((line) => line.startsWith("{"))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

/** Waits until the service listens, then stops it; returns what it logged. */
async function listenAndStop({ child, output, exited }: Started): Promise<Array<Record<string, unknown>>> {
  await waitFor(
    "the service to listen",
    () => logLines(output.stdout).some((l) => String(l.msg).startsWith("Server listening")),
    20_000,
  ).catch((error: Error) => {
    throw new Error(`${error.message}; it wrote:\n${output.stdout}${output.stderr}`);
  });
  child.kill("SIGTERM");
  expect(await exited).toBe(0);
  return logLines(output.stdout);
}

const isDevelopmentKeyWarning = (line: Record<string, unknown>) => line.alert === "development_master_key";

describe("starting a service", () => {
  // Regression: NODE_ENV defaulted to development, so a deployment that forgot it ran on the public key.
  it("refuses to start without MASTER_KEY and NODE_ENV, saying what to set", async () => {
    const { output, exited } = start({});
    expect(await exited).toBe(1);
    expect(output.stderr).toContain("bare-service refused to start");
    expect(output.stderr).toContain("MASTER_KEY: required (openssl rand -base64 32)");
    expect(output.stderr).toContain("NODE_ENV=development or NODE_ENV=test");
  });

  it("refuses to start alone without server addresses, pointing at pnpm dev, which provides the embedded mode", async () => {
    const { output, exited } = start({ NODE_ENV: "development", DATABASE_URL: "", NATS_URL: "" });
    expect(await exited).toBe(1);
    expect(output.stderr).toBe(
      "bare-service refused to start: DATABASE_URL and NATS_URL are not set. Set both, or run `pnpm dev` " +
        "(both services in one process on the embedded development database and event bus)\n",
    );
  });

  it("starts with NODE_ENV=development and no MASTER_KEY, with a loud warn-level line about the public key", async () => {
    const lines = await listenAndStop(start({ NODE_ENV: "development", LOG_LEVEL: "info" }));
    const warnings = lines.filter(isDevelopmentKeyWarning);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ level: 40, nodeEnv: "development" });
    expect(String(warnings[0]?.msg)).toMatch(/PUBLIC development master key.*set MASTER_KEY/);
    // Before the service listens, so nobody reads past it.
    const listening = lines.findIndex((l) => String(l.msg).startsWith("Server listening"));
    expect(lines.findIndex(isDevelopmentKeyWarning)).toBeLessThan(listening);
  });

  it("starts a laptop from a copy of .env.example (it sets NODE_ENV=development)", async () => {
    const lines = await listenAndStop(start({ ENV_FILE: ENV_EXAMPLE }));
    expect(lines.filter(isDevelopmentKeyWarning)).toHaveLength(1);
  });

  it("still warns, on stderr, when LOG_LEVEL hides warnings", async () => {
    const { child, output, exited } = start({ NODE_ENV: "test", LOG_LEVEL: "silent" });
    await waitFor("the warning", () => output.stderr.includes("WARNING: MASTER_KEY is not set"), 20_000);
    child.kill("SIGTERM");
    expect(await exited).toBe(0);
  });

  it("says nothing about a development key when MASTER_KEY is set", async () => {
    const lines = await listenAndStop(
      start({ NODE_ENV: "development", MASTER_KEY: Buffer.alloc(32, 3).toString("base64") }),
    );
    expect(lines.filter(isDevelopmentKeyWarning)).toEqual([]);
  });
});
