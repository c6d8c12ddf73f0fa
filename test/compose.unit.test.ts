// The compose file and the image cannot be run on machines without a Docker engine, so what can be checked
// without one is checked here: the file against the Compose Specification's JSON schema, every variable it
// gives a service against that service's configuration schema, and the command each service runs against
// its `start` script and the README; and that the image installs every package of the workspace.

import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { BaseConfigSchema } from "@ipaas/service-kit";
import Ajv from "ajv";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { apiConfig } from "../services/api-auth/src/config";
import { dashboardConfig } from "../services/dashboard-auth/src/config";

const ROOT = join(import.meta.dirname, "..");
const read = (path: string) => readFileSync(join(ROOT, path), "utf8");

interface ComposeService {
  command?: string[];
  working_dir?: string;
  environment?: Record<string, string>;
}
const compose = parse(read("docker-compose.yml"), { merge: true }) as { services: Record<string, ComposeService> };

/** `${NAME:-default}` as Compose reads it with NAME unset; anything else as written. */
function withDefaults(environment: Record<string, string>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(environment).map(([name, value]) => [
      name,
      String(value).replace(/\$\{[A-Z_]+:-([^}]*)\}/g, (_match, fallback: string) => fallback),
    ]),
  );
}

const SERVICES = {
  "dashboard-auth": dashboardConfig,
  "api-auth": apiConfig,
} as const;

describe("docker compose and the image, checked without a Docker engine", () => {
  it("is a valid Compose file by the Compose Specification's schema", () => {
    // The copy of the schema shipped with dclint. Its `$schema` names draft-07 by an address Ajv does not
    // know; draft-07 is Ajv's default, so the schema is compiled without it.
    const { $schema: _draft, ...schema } = JSON.parse(read("node_modules/dclint/schemas/compose.schema.json"));
    const validate = new Ajv({ strict: false, allErrors: true }).compile(schema);
    expect(validate(compose), JSON.stringify(validate.errors, null, 2)).toBe(true);
    // The schema does refuse what Compose would: a misspelt key is an error.
    const misspelt = structuredClone(compose) as unknown as { services: Record<string, Record<string, unknown>> };
    (misspelt.services.postgres as Record<string, unknown>).healthcheks = {};
    expect(validate(misspelt)).toBe(false);
  });

  it("gives each service only variables its configuration defines, with values it accepts", () => {
    for (const [name, config] of Object.entries(SERVICES)) {
      const environment = compose.services[name]?.environment ?? {};
      const known = new Set(Object.keys(config.schema.properties));
      expect(
        Object.keys(environment).filter((variable) => !known.has(variable)),
        name,
      ).toEqual([]);
      expect(() => config.load(withDefaults(environment)), name).not.toThrow();
    }
    const migrate = compose.services.migrate?.environment ?? {};
    expect(Object.keys(migrate)).toEqual(["DATABASE_URL"]);
    // The migration job reads DATABASE_URL only (`pnpm db:migrate`), with the services' rule for its value.
    expect(withDefaults(migrate).DATABASE_URL).toMatch(
      new RegExp((BaseConfigSchema.properties.DATABASE_URL as { pattern?: string }).pattern ?? "^$"),
    );
  });

  it("runs each service with its start script, the command the README documents", () => {
    const readme = read("README.md");
    for (const name of Object.keys(SERVICES)) {
      const service = compose.services[name];
      const start = JSON.parse(read(`services/${name}/package.json`)).scripts.start as string;
      expect(service?.working_dir).toBe(`/app/services/${name}`);
      expect(service?.command?.join(" ")).toBe(start);
      expect(readme).toContain(start);
    }
  });

  it("copies every workspace package's manifest before installing (a missing one breaks the frozen install)", () => {
    const dockerfile = read("Dockerfile");
    const globs = (parse(read("pnpm-workspace.yaml")) as { packages: string[] }).packages;
    const folders = globs.flatMap((glob) => {
      const parent = glob.replace(/\/\*$/, "");
      return readdirSync(join(ROOT, parent))
        .map((name) => `${parent}/${name}`)
        .filter((folder) => existsSync(join(ROOT, folder, "package.json")));
    });
    expect(folders.length).toBeGreaterThan(8);
    for (const folder of folders) expect(dockerfile, folder).toContain(`COPY ${folder}/package.json ${folder}/`);
  });
});
