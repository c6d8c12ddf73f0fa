import { fileURLToPath } from "node:url";
import { foundationSuite } from "@ipaas/testing";
import app, { SERVICE } from "../src/app";
import { dashboardConfig } from "../src/config";

foundationSuite({
  service: SERVICE,
  plugin: app,
  loadConfig: dashboardConfig.load,
  serverEntry: fileURLToPath(new URL("../src/server.ts", import.meta.url)),
  openapiFile: fileURLToPath(new URL("../../../docs/openapi/dashboard-auth.json", import.meta.url)),
  portVariable: "DASHBOARD_AUTH_PORT",
  issuerVariable: "DASHBOARD_AUTH_ISSUER",
});
