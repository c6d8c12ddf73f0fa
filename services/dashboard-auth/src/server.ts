import { runService } from "@ipaas/service-kit";
import app, { SERVICE } from "./app";
import { dashboardConfig } from "./config";

await runService({
  service: SERVICE,
  loadConfig: () => dashboardConfig.load(),
  port: (config) => config.DASHBOARD_AUTH_PORT,
  app,
});
