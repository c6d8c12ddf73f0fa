// api-auth as services/api-auth/src/server.ts runs it (same runService, same app plugin, same
// configuration from the environment), with one difference: the per-address OAuth flood limits are raised.
//
// Why not just the environment: AUTH_RATE_LIMIT_PER_MINUTE is capped at 100,000 by the configuration
// schema, and the introspection limit (6,000 per minute per address) is an app option, not a variable.
// Every request of a benchmark comes from 127.0.0.1, so either limit would turn most of a 5-second window
// into 429s and measure the limiter instead of the service. The limiter itself still runs on every
// request, as in production; it just never refuses.
import { type RunOptions, runService } from "../../packages/service-kit/src/run";
import apiAuth, { SERVICE } from "../../services/api-auth/src/app";
import { type ApiConfig, apiConfig } from "../../services/api-auth/src/config";

const UNLIMITED = 1_000_000_000;

const apiAuthForBench: RunOptions<ApiConfig>["app"] = async (app, { config }) => {
  await app.register(apiAuth, {
    config,
    limits: {
      tokenRequestsPerMinute: UNLIMITED,
      introspectionRequestsPerMinute: UNLIMITED,
      revocationRequestsPerMinute: UNLIMITED,
    },
  });
};
// Not encapsulated, like the app plugin itself (this is what fastify-plugin marks a plugin with), so the
// routes and hooks live in the root context exactly as in server.ts.
Object.assign(apiAuthForBench, { [Symbol.for("skip-override")]: true });

await runService({
  service: SERVICE,
  loadConfig: () => apiConfig.load(),
  port: (config) => config.API_AUTH_PORT,
  app: apiAuthForBench,
});
