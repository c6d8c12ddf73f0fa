// The servers a test run needs, PostgreSQL, NATS with JetStream and Redis, at the configured addresses (the
// tests' own first). One that does not answer is started in a Docker container for the run when an engine
// answers (testcontainers); otherwise the run stops with one line saying what to do. Each choice is logged.
import { connect } from "node:net";
import {
  type ContainerServer,
  dockerAnswers,
  startNatsContainer,
  startPostgresContainer,
  startRedisContainer,
} from "./containers";

export interface ServerNeed {
  label: string;
  /** The variable the tests read the address from; set to the container's when one is started. */
  variable: string;
  url: string;
  start(): Promise<ContainerServer>;
}

/** What the run needs, from the environment. */
export function serverNeeds(env: Record<string, string | undefined>): ServerNeed[] {
  return [
    {
      label: "PostgreSQL",
      variable: "TEST_DATABASE_SERVER_URL",
      url: env.TEST_DATABASE_SERVER_URL || env.DATABASE_URL || "postgres://postgres@127.0.0.1:5432/postgres",
      start: startPostgresContainer,
    },
    {
      label: "NATS",
      variable: "NATS_URL",
      url: env.NATS_URL || "nats://127.0.0.1:4222",
      start: () => startNatsContainer(),
    },
    {
      label: "Redis",
      variable: "TEST_REDIS_URL",
      url: env.TEST_REDIS_URL || env.REDIS_URL || "redis://127.0.0.1:6379",
      start: startRedisContainer,
    },
  ];
}

function addressOf(url: string): string {
  const { hostname, port, protocol } = new URL(url);
  const defaults: Record<string, string> = {
    "postgres:": "5432",
    "postgresql:": "5432",
    "nats:": "4222",
    "redis:": "6379",
  };
  return `${hostname}:${port || defaults[protocol] || ""}`;
}

function answers(url: string, timeoutMs = 1_000): Promise<boolean> {
  const [host = "", port = ""] = addressOf(url).split(/:(?=\d+$)/);
  return new Promise((resolve) => {
    const socket = connect({ host: host.replace(/^\[|\]$/g, ""), port: Number(port) });
    const finish = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => finish(false));
    socket.once("connect", () => finish(true));
    socket.once("error", () => finish(false));
  });
}

/** Why the run cannot have its servers, in one line. */
export class ServersMissing extends Error {}

/**
 * Makes every needed server answer for the run; returns what stops the containers it started. The address
 * of a container is put in the environment the test workers inherit.
 */
export async function serversForTheRun(
  env: Record<string, string | undefined>,
  log: (line: string) => void,
): Promise<() => Promise<void>> {
  const missing: ServerNeed[] = [];
  for (const need of serverNeeds(env)) {
    if (await answers(need.url)) log(`${need.label} answers at ${addressOf(need.url)}`);
    else missing.push(need);
  }
  if (missing.length === 0) return async () => undefined;
  const where = missing.map((need) => `${need.label} at ${addressOf(need.url)}`).join(", ");
  if (!(await dockerAnswers())) {
    throw new ServersMissing(
      `${where} ${missing.length > 1 ? "do" : "does"} not answer and no Docker engine does: run bash scripts/test.sh, ` +
        "which starts them from the machine's packages (installing them as root on Debian or Ubuntu)",
    );
  }
  const started: ContainerServer[] = [];
  try {
    for (const need of missing) {
      const server = await need.start();
      started.push(server);
      env[need.variable] = server.url;
      log(
        `${need.label} did not answer at ${addressOf(need.url)}: started in a container for this run at ${addressOf(server.url)}`,
      );
    }
  } catch (error) {
    await Promise.all(started.map((server) => server.stop()));
    throw error;
  }
  return async () => {
    await Promise.all(started.map((server) => server.stop()));
  };
}
