// A development command run as a developer runs it: a child process of its own, its output collected.
import { spawn } from "node:child_process";
import { join } from "node:path";

const TOOLS = join(import.meta.dirname, "..");

export class Spawned {
  stdout = "";
  stderr = "";
  readonly exited: Promise<number | null>;
  readonly #child;

  constructor(script: string, env: Record<string, string>) {
    this.#child = spawn(process.execPath, ["--import", "tsx", script], {
      cwd: TOOLS,
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin", ...env },
    });
    this.#child.stdout.on("data", (chunk: Buffer) => {
      this.stdout += chunk.toString();
    });
    this.#child.stderr.on("data", (chunk: Buffer) => {
      this.stderr += chunk.toString();
    });
    this.exited = new Promise((resolve) => this.#child.on("exit", (status) => resolve(status)));
  }

  /** Resolves with the first match of `pattern` in the output; fails when the process exits first. */
  async waitFor(pattern: RegExp, timeoutMs = 60_000): Promise<RegExpExecArray> {
    const deadline = Date.now() + timeoutMs;
    let exited = false;
    void this.exited.then(() => {
      exited = true;
    });
    for (;;) {
      const match = pattern.exec(this.stdout);
      if (match) return match;
      if (exited || Date.now() > deadline) {
        throw new Error(`${pattern} never appeared. stdout:\n${this.stdout}\nstderr:\n${this.stderr}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  /** Sends SIGTERM and waits for the exit status. */
  async stop(): Promise<number | null> {
    this.#child.kill("SIGTERM");
    return this.exited;
  }
}

/** Runs a command to its end. */
export async function runToEnd(script: string, env: Record<string, string>) {
  const spawned = new Spawned(script, env);
  const status = await spawned.exited;
  return { status, stdout: spawned.stdout, stderr: spawned.stderr };
}

/** The partner token request the demo prints (`curl -u <clientKey:secret>`), over HTTP to api-auth at `origin`. */
export function partnerTokenRequest(origin: string, basic: string): Promise<Response> {
  return fetch(`${origin}/v1/auth/token`, {
    method: "POST",
    headers: {
      authorization: `Basic ${Buffer.from(basic).toString("base64")}`,
      "content-type": "application/x-www-form-urlencoded",
    },
    body: "grant_type=client_credentials&scope=otp",
  });
}
