import { fileURLToPath } from "node:url";
import { foundationSuite } from "@ipaas/testing";
import app, { SERVICE } from "../src/app";
import { apiConfig } from "../src/config";

foundationSuite({
  service: SERVICE,
  plugin: app,
  loadConfig: apiConfig.load,
  serverEntry: fileURLToPath(new URL("../src/server.ts", import.meta.url)),
  openapiFile: fileURLToPath(new URL("../../../docs/openapi/api-auth.json", import.meta.url)),
  portVariable: "API_AUTH_PORT",
  issuerVariable: "API_AUTH_ISSUER",
});
