import { runService } from "@ipaas/service-kit";
import app, { SERVICE } from "./app";

await runService({ service: SERVICE, port: (config) => config.DASHBOARD_AUTH_PORT, app });
