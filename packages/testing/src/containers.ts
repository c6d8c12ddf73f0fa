// Servers in Docker containers (testcontainers), for a machine that has a Docker engine but not the
// servers themselves. Loaded only when a server is missing, so a machine with its own servers never needs
// the Docker client.
export interface ContainerServer {
  url: string;
  stop(): Promise<void>;
}

const IMAGES = { postgres: "postgres:17-alpine", nats: "nats:2.10-alpine", redis: "redis:7-alpine" };

/** Whether a Docker engine answers, found as testcontainers finds one (DOCKER_HOST, the socket, …). */
export async function dockerAnswers(): Promise<boolean> {
  const { getContainerRuntimeClient } = await import("testcontainers");
  return getContainerRuntimeClient().then(
    () => true,
    () => false,
  );
}

/** A PostgreSQL server; its URL names the maintenance database `postgres`, where test databases are made. */
export async function startPostgresContainer(): Promise<ContainerServer> {
  const { PostgreSqlContainer } = await import("@testcontainers/postgresql");
  const container = await new PostgreSqlContainer(IMAGES.postgres)
    .withUsername("postgres")
    .withPassword("postgres")
    .withDatabase("postgres")
    .start();
  return { url: container.getConnectionUri(), stop: () => container.stop().then(() => undefined) };
}

/**
 * A NATS server with JetStream. With `hostPort` and `storeDir` (a test's private server, stopped and
 * started again), on that port of this machine and with its streams kept in that folder.
 */
export async function startNatsContainer(
  options: { hostPort?: number; storeDir?: string } = {},
): Promise<ContainerServer> {
  const { GenericContainer, Wait } = await import("testcontainers");
  let definition = new GenericContainer(IMAGES.nats)
    .withCommand(["-js", "-sd", "/data"])
    .withWaitStrategy(Wait.forLogMessage(/Server is ready/));
  definition = options.hostPort
    ? definition.withExposedPorts({ container: 4222, host: options.hostPort })
    : definition.withExposedPorts(4222);
  if (options.storeDir) definition = definition.withBindMounts([{ source: options.storeDir, target: "/data" }]);
  const container = await definition.start();
  return {
    url: `nats://${container.getHost()}:${container.getMappedPort(4222)}`,
    stop: () => container.stop().then(() => undefined),
  };
}

export async function startRedisContainer(): Promise<ContainerServer> {
  const { GenericContainer, Wait } = await import("testcontainers");
  const container = await new GenericContainer(IMAGES.redis)
    .withExposedPorts(6379)
    .withWaitStrategy(Wait.forLogMessage(/Ready to accept connections/))
    .start();
  return {
    url: `redis://${container.getHost()}:${container.getMappedPort(6379)}`,
    stop: () => container.stop().then(() => undefined),
  };
}
