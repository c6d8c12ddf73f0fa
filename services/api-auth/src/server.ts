import { runService } from "@ipaas/service-kit";
import app, { SERVICE } from "./app";
import { apiConfig } from "./config";

await runService({ service: SERVICE, loadConfig: () => apiConfig.load(), port: (config) => config.API_AUTH_PORT, app });
