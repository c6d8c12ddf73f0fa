// The package as a partner installs it: `npm pack`, installed into an empty folder with nothing else of this
// repository, then the seed's example run from CommonJS and from an ES module against the real services,
// and its types checked from both.

import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { buildSdkWorld, type SdkWorld } from "@ipaas/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const sdkDir = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const tsc = resolve(sdkDir, "../../node_modules/.bin/tsc");

/** The seed's example; only the code differs from the sample '0123': the one the person received. */
const SEED_CALLS = `
var sendOtpResponse = await ipaas(apiKey).auth().sendOtp('mobile', '+918838118348');
console.log(JSON.stringify({ sendOtpResponse }));
const code = await nextLine();
var verifyOtpResponse = await ipaas(apiKey).auth().verifyOtp('mobile', '+918838118348', code);
console.log(JSON.stringify({ verifyOtpResponse }));
`;
const NEXT_LINE = `
const apiKey = process.env.IPAAS_API_KEY;
const lines = require('node:readline').createInterface({ input: process.stdin })[Symbol.asyncIterator]();
const nextLine = async () => (await lines.next()).value;
`;

const CJS = `const ipaas = require('ipaas-nodejs');
${NEXT_LINE}
(async () => {
${SEED_CALLS}
  process.exit(0);
})();
`;

const MJS = `import ipaas from 'ipaas-nodejs';
import { createRequire } from 'node:module';
const require = createRequire(import.meta.url);
${NEXT_LINE}
${SEED_CALLS}
process.exit(0);
`;

const TYPES_MTS = `import ipaas, { IpaasError, type VerifyOtpResponse } from "ipaas-nodejs";
const auth = ipaas("ipaas_sk_0123456789abcdef0123456789abcdef_secret-secret-secret-secret").auth();
export async function run(): Promise<string> {
  const sent = await auth.sendOtp("mobile", "+918838118348");
  const verified: VerifyOtpResponse = await auth.verifyOtp("mobile", "+918838118348", "0123");
  const byRequest = await auth.verifyOtp({ requestId: sent.requestId, code: "0123" });
  const checked = await auth.verifyUserToken(verified.token);
  const error = new IpaasError({ code: "X", status: 400 });
  return sent.requestId + byRequest.userId + checked.expiresAt.toISOString() + error.code;
}
`;
const TYPES_CTS = `import ipaas = require("ipaas-nodejs");
const auth = ipaas("ipaas_sk_0123456789abcdef0123456789abcdef_secret-secret-secret-secret").auth();
export async function run(): Promise<number> {
  const status = await auth.tokenStatus("token");
  const error: ipaas.IpaasError | null = null;
  return (status.active ? 1 : 0) + (error === null ? 0 : 1);
}
`;

describe("the ipaas-nodejs package", () => {
  let world: SdkWorld;
  let app: string;
  beforeAll(async () => {
    world = await buildSdkWorld();
    const packed = mkdtempSync(join(tmpdir(), "ipaas-pack-"));
    const quiet = { stdio: "pipe" as const };
    execFileSync("npm", ["pack", "--pack-destination", packed], { cwd: sdkDir, ...quiet });
    // Its one dependency, from the copy already installed, so the folder needs no registry.
    execFileSync("npm", ["pack", join(sdkDir, "node_modules/jose"), "--pack-destination", packed], quiet);
    app = mkdtempSync(join(tmpdir(), "ipaas-app-"));
    writeFileSync(join(app, "package.json"), JSON.stringify({ name: "partner-backend", private: true }));
    const tarballs = readdirSync(packed).map((name) => join(packed, name));
    execFileSync("npm", ["install", "--offline", "--no-audit", "--no-fund", ...tarballs], { cwd: app, ...quiet });
  }, 180_000);
  afterAll(async () => {
    if (app) rmSync(app, { recursive: true, force: true });
    await world?.close();
  });

  /** Runs a file of the partner's folder: it sends a code, reads it on its stdin, verifies it. */
  async function runExample(file: string, source: string, apiKey: string) {
    writeFileSync(join(app, file), source);
    const child = spawn(process.execPath, [file], {
      cwd: app,
      env: { PATH: process.env.PATH, IPAAS_BASE_URL: world.baseUrl, IPAAS_API_KEY: apiKey },
      stdio: ["pipe", "pipe", "pipe"],
    });
    let stderr = "";
    child.stderr.on("data", (chunk) => {
      stderr += chunk;
    });
    const out = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
    const next = async () => {
      const line = (await out.next()).value;
      if (line === undefined) throw new Error(`${file} stopped: ${stderr}`);
      return JSON.parse(line);
    };
    const { sendOtpResponse } = await next();
    child.stdin.write(`${await world.nextCode("+918838118348")}\n`);
    const { verifyOtpResponse } = await next();
    return { sendOtpResponse, verifyOtpResponse };
  }

  it("runs the seed's example from CommonJS and from an ES module", async () => {
    for (const [file, source] of [
      ["example.cjs", CJS],
      ["example.mjs", MJS],
    ] as const) {
      // A new organization each: the number's resend cooldown is per organization.
      const org = await world.organization();
      const { sendOtpResponse, verifyOtpResponse } = await runExample(file, source, org.apiKey);
      expect(sendOtpResponse, file).toMatchObject({ channel: "sms", expiresIn: 300, resendAfter: 30 });
      expect(verifyOtpResponse, file).toMatchObject({ tokenType: "Bearer", expiresIn: 3600 });
      expect(verifyOtpResponse.userId, file).toMatch(/^sub_/);
    }
  });

  it("has types for ES modules and CommonJS", () => {
    writeFileSync(join(app, "types.mts"), TYPES_MTS);
    writeFileSync(join(app, "types.cts"), TYPES_CTS);
    const options = ["--noEmit", "--strict", "--module", "nodenext", "--target", "es2022", "--types", "node"];
    const typeRoots = ["--typeRoots", resolve(sdkDir, "../../node_modules/@types")];
    execFileSync(tsc, [...options, ...typeRoots, "types.mts", "types.cts"], { cwd: app, stdio: "pipe" });
  });
});
