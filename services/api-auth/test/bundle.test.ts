// The production bundles (scripts/build.mjs): each service is built, started with the command of its
// `start` script against the run's database and NATS, asked for a real route, and stopped. It fails when
// a bundle cannot start: a package it cannot find, a file looked for next to the source (the migrations,
// docs/errors.md), or a node flag of the start command that this Node refuses.
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { freePort, TEST_MASTER_KEY } from "@ipaas/testing";
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from "vitest";

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
/** A build of this test's own, so that it neither replaces nor uses a dist/ someone is running. */
const OUT = `dist/test-${process.pid}`;
const SERVICES = ["api-auth", "dashboard-auth"] as const;
type Service = (typeof SERVICES)[number];

interface Started {
  url: string;
  stop(): Promise<number | null>;
}

const children: ChildProcess[] = [];

beforeAll(async () => {
  await promisify(execFile)(process.execPath, ["scripts/build.mjs", `--out=${OUT}`], { cwd: ROOT });
}, 15_000);

afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill("SIGKILL");
});

afterAll(() => {
  for (const service of SERVICES) rmSync(join(ROOT, "services", service, OUT), { recursive: true, force: true });
});

/** The node flags of the service's `start` script (`node [flags] dist/server.mjs`). */
function startFlags(service: Service): string[] {
  const manifest = JSON.parse(readFileSync(join(ROOT, "services", service, "package.json"), "utf8")) as {
    scripts: { start: string };
  };
  const words = manifest.scripts.start.split(" ").filter(Boolean);
  expect(words[0]).toBe("node");
  expect(words.at(-1)).toBe("dist/server.mjs");
  return words.slice(1, -1);
}

/** Starts the bundle as `start` would, with exactly this environment, and waits until it is ready. */
async function startBundle(service: Service): Promise<Started> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const prefix = service === "api-auth" ? "API_AUTH" : "DASHBOARD_AUTH";
  const child = spawn(process.execPath, [...startFlags(service), `${OUT}/server.mjs`], {
    cwd: join(ROOT, "services", service),
    env: {
      PATH: process.env.PATH ?? "/usr/bin:/bin",
      ENV_FILE: "none",
      NODE_ENV: "test",
      LOG_LEVEL: "warn",
      DATABASE_URL: inject("databaseUrl"),
      NATS_URL: process.env.NATS_URL ?? "nats://127.0.0.1:4222",
      MASTER_KEY: TEST_MASTER_KEY,
      // Already applied by the run's set-up: the migrator only reads the folder and checks each checksum.
      MIGRATE_ON_START: "true",
      [`${prefix}_PORT`]: String(port),
      [`${prefix}_ISSUER`]: url,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.push(child);
  let output = "";
  child.stdout?.on("data", (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr?.on("data", (chunk: Buffer) => {
    output += chunk.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
  const deadline = Date.now() + 12_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${service}'s bundle exited (${child.exitCode}):\n${output}`);
    const ready = await fetch(`${url}/health/ready`).then(
      (res) => res.ok,
      () => false,
    );
    if (ready) break;
    if (Date.now() > deadline) throw new Error(`${service}'s bundle was not ready in time:\n${output}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return {
    url,
    stop: () => {
      child.kill("SIGTERM");
      return exited;
    },
  };
}

describe("the production bundles", () => {
  it("api-auth answers its authorization-server metadata and serves the error codes", async () => {
    const api = await startBundle("api-auth");
    const metadata = await fetch(`${api.url}/.well-known/oauth-authorization-server`);
    expect(metadata.status).toBe(200);
    expect(((await metadata.json()) as { issuer: string }).issuer).toBe(api.url);
    // docs/errors.md, found from the bundle rather than from service-kit's source folder.
    expect((await fetch(`${api.url}/errors`)).status).toBe(200);
    expect(await api.stop()).toBe(0);
  });

  it("dashboard-auth refuses an unknown login after hashing, as from source", async () => {
    const dashboard = await startBundle("dashboard-auth");
    const login = await fetch(`${dashboard.url}/v1/auth/login`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ email: `nobody.${process.pid}@example.test`, password: "wrong horse battery staple" }),
    });
    expect(login.status).toBe(401);
    expect(((await login.json()) as { code: string }).code).toBe("INVALID_CREDENTIALS");
    expect(await dashboard.stop()).toBe(0);
  });
});
