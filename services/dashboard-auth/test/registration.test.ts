import { sha256Hex } from "@ipaas/service-kit";
import {
  bankRegistration,
  buildDashboard,
  email,
  PASSWORD,
  post,
  registerBank,
  registerOrganization,
} from "@ipaas/testing";
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

describe("registration", () => {
  let app: FastifyInstance;
  beforeAll(async () => {
    app = await buildDashboard();
  });
  afterAll(() => app.close());

  describe("happy path", () => {
    it("registers a bank with the seed's response fields and a Master Admin", async () => {
      const address = { line1: "1 Sector 18", city: "Noida", country: "IN" };
      const userEmail = email("bank");
      const res = await post(app, "/v1/auth/banks/register", {
        bankName: "Punjab National Bank",
        branch: "Noida",
        name: "Admin",
        email: userEmail.toUpperCase(),
        password: PASSWORD,
        address,
      });
      expect(res.statusCode).toBe(201);
      const body = res.json();
      expect(body).toMatchObject({
        bankName: "Punjab National Bank",
        branch: "Noida",
        address,
        status: "Active",
        isDeleted: false,
        email: userEmail,
        name: "Admin",
        role: "Master Admin",
        head: true,
        internal: false,
        isBankUser: true,
      });
      expect(body.bankId).toMatch(/^bnk_/);
      expect(body._id).toBe(body.bankId);
      expect(body.userId).toMatch(/^usr_/);
      expect(body.roleId).toMatch(/^rol_/);
      expect(Object.keys(body)).not.toContain("password");
      expect(res.body).not.toContain(PASSWORD);
    });

    it("registers an organization, returning the client secret once and storing only its hash", async () => {
      const bank = await registerBank(app);
      const res = await post(app, "/v1/auth/register", {
        bankId: bank.bankId,
        companyName: "Biller Company",
        phone: 9898989812,
        gst: "qw7538r5pc82edl",
        type: "Agent Institution",
        scopes: ["read_bills", "read_packs"],
        email: email("org"),
        name: "Super Admin",
        password: PASSWORD,
      });
      expect(res.statusCode).toBe(201);
      expect(res.headers["cache-control"]).toBe("no-store");
      const body = res.json();
      expect(body).toMatchObject({
        bankId: bank.bankId,
        companyName: "Biller Company",
        phone: "+919898989812",
        gst: "QW7538R5PC82EDL",
        type: "Agent Institution",
        status: "Active",
        scopes: "read_bills read_packs",
        role: "Super Admin",
        head: true,
        internal: false,
      });
      expect(body.orgId).toMatch(/^org_/);
      expect(body.clientKey).toMatch(/^[0-9a-f-]{36}$/);
      // 256 random bits, base64url.
      expect(Buffer.from(body.clientSecret, "base64url")).toHaveLength(32);
      expect(body.apiKey).toMatch(/^ipaas_sk_[0-9a-f]{32}_[A-Za-z0-9_-]{43}$/);
      expect(body.apiKey).toBe(`ipaas_sk_${body.clientKey.replaceAll("-", "")}_${body.clientSecret}`);

      const credential = await app.db.organizationCredential.findUniqueOrThrow({ where: { tenantId: body.orgId } });
      expect(credential.secretHash).toBe(sha256Hex(body.clientSecret));
      expect(JSON.stringify(credential)).not.toContain(body.clientSecret);
      expect(res.body).not.toContain(credential.secretHash);

      const roles = await app.db.role.findMany({ where: { tenantId: body.orgId }, orderBy: { rank: "asc" } });
      expect(roles.map((r) => [r.name, r.isSystem])).toEqual([
        ["Super Admin", true],
        ["Admin", true],
      ]);
    });

    it("stores the password as argon2id with the OWASP parameters and a salt of its own per hash", async () => {
      const [first, second] = await Promise.all([registerOrganization(app), registerOrganization(app)]);
      const hashes = await Promise.all(
        [first, second].map(async (org) => {
          const user = await app.db.user.findUniqueOrThrow({ where: { id: org.userId } });
          return user.passwordHash;
        }),
      );
      const salts = hashes.map((hash) => {
        expect(hash).toMatch(/^p1\$argon2id\$v=19\$m=19456,p=1,t=2\$/);
        return Buffer.from(hash.split("$")[4] ?? "", "base64");
      });
      // The same password, two salts of at least 128 bits (NIST asks for 32): two different hashes.
      for (const salt of salts) expect(salt.length).toBeGreaterThanOrEqual(16);
      expect(salts[0]?.equals(salts[1] ?? Buffer.alloc(0))).toBe(false);
      expect(hashes[0]).not.toBe(hashes[1]);
    });

    it("accepts long passphrases of any shape and 64+ characters", async () => {
      for (const password of ["a".repeat(16), "x7!".repeat(43)]) {
        const res = await bankRegistration(app, { password });
        expect(res.statusCode, res.body).toBe(201);
      }
    });
  });

  describe("errors", () => {
    async function fieldsOf(payload: Record<string, unknown>, url = "/v1/auth/register") {
      const res = await post(app, url, payload);
      return {
        status: res.statusCode,
        body: res.json(),
        fields: (res.json().errors ?? []).map((e: { field: string }) => e.field),
      };
    }

    it("refuses an address key longer than 40 characters (review finding 13)", async () => {
      const res = await fieldsOf(
        {
          bankName: "B",
          branch: "b",
          name: "N",
          email: email(),
          password: PASSWORD,
          address: { ["k".repeat(41)]: "x" },
        },
        "/v1/auth/banks/register",
      );
      expect(res.status).toBe(400);
      expect(res.body.code).toBe("VALIDATION_FAILED");
      const ok = await fieldsOf(
        {
          bankName: "B",
          branch: "b",
          name: "N",
          email: email(),
          password: PASSWORD,
          address: { ["k".repeat(40)]: "x" },
        },
        "/v1/auth/banks/register",
      );
      expect(ok.status).toBe(201);
    });

    it("refuses an unknown bank, naming bankId", async () => {
      const res = await fieldsOf({
        bankId: "bnk_doesnotexist",
        companyName: "C",
        phone: "9898989812",
        gst: "QW7538R5PC82EDL",
        type: "Biller",
        scopes: ["read_bills"],
        email: email(),
        name: "N",
        password: PASSWORD,
      });
      expect(res.status).toBe(400);
      expect(res.fields).toEqual(["bankId"]);
    });

    it("refuses an organization as the bank of another organization", async () => {
      const org = await registerOrganization(app);
      await expect(registerOrganization(app, { bankId: org.orgId })).rejects.toThrow(/bankId/);
    });

    it("names each invalid or missing field", async () => {
      const bank = await registerBank(app);
      const invalid = await fieldsOf({
        bankId: bank.bankId,
        companyName: "C",
        phone: "12",
        gst: "TOO-SHORT",
        type: "Wholesaler",
        scopes: [],
        email: "not-an-email",
        name: "N",
        password: PASSWORD,
      });
      expect(invalid.status).toBe(400);
      expect(invalid.fields).toEqual(expect.arrayContaining(["phone", "gst", "type", "scopes", "email"]));

      const missing = await fieldsOf({ bankId: bank.bankId });
      expect(missing.status).toBe(400);
      expect(missing.fields).toEqual(
        expect.arrayContaining(["companyName", "phone", "gst", "type", "scopes", "email", "name", "password"]),
      );

      const badPhone = await fieldsOf({
        bankId: bank.bankId,
        companyName: "C",
        phone: "0000000000",
        gst: "QW7538R5PC82EDL",
        type: "Biller",
        scopes: ["read_bills"],
        email: email(),
        name: "N",
        password: PASSWORD,
      });
      expect(badPhone.status).toBe(400);
      expect(badPhone.fields).toEqual(["phone"]);
    });

    it("refuses fields that are not in the contract (no mass assignment)", async () => {
      const res = await fieldsOf(
        { bankName: "B", branch: "b", name: "N", email: email(), password: PASSWORD, address: {}, internal: true },
        "/v1/auth/banks/register",
      );
      expect(res.status).toBe(400);
      expect(res.fields).toEqual(["internal"]);
    });

    it("refuses short, common and guessable passwords with a reason, and writes nothing", async () => {
      for (const password of ["Sh0rt!x", "password1234", "qwertyuiop"]) {
        const address = email();
        const res = await bankRegistration(app, { email: address, password });
        expect(res.statusCode, password).toBe(400);
        expect(res.json().code).toBe("WEAK_PASSWORD");
        expect(res.json().errors[0]).toMatchObject({ field: "password", message: expect.any(String) });
        expect(await app.db.user.findUnique({ where: { email: address } })).toBeNull();
      }
    });

    it("counts a password's length in characters (code points), not UTF-16 units", async () => {
      const register = (password: string) => bankRegistration(app, { password });
      // Seven characters outside the BMP: fourteen UTF-16 units, still one short of eight characters.
      const sevenEmoji = "🦊🐧🦉🐙🦋🐝🦀";
      expect(sevenEmoji.length).toBeGreaterThanOrEqual(8);
      const short = await register(sevenEmoji);
      expect(short.statusCode).toBe(400);
      expect(short.json()).toMatchObject({
        code: "WEAK_PASSWORD",
        errors: [{ field: "password", message: "use at least 8 characters" }],
      });
      // Enough characters of non-ASCII text pass: eight emoji, a Greek passphrase, and 256 emoji (the most).
      for (const password of ["🦊🐧🦉🐙🦋🐝🦀🐬", "καλημέρα κόσμε μου", "🦊🐧🦉🐙".repeat(64)]) {
        const res = await register(password);
        expect(res.statusCode, `${[...password].length} characters: ${res.body}`).toBe(201);
      }
      const tooLong = await register(`${"🦊🐧🦉🐙".repeat(64)}🐬`);
      expect(tooLong.statusCode).toBe(400);
      expect(tooLong.json().errors).toEqual([{ field: "password", message: "must NOT have more than 256 characters" }]);
    });
  });
});
