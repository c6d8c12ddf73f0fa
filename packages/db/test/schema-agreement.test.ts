import { readFile } from "node:fs/promises";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { schemaPath } from "../src/paths";
import { expectedColumnType, parseSchema } from "./prisma-schema";

// Guards the hand-written migrations: the database they produce must be the one schema.prisma describes.
describe("migrated database agrees with schema.prisma", () => {
  let client: pg.Client;
  beforeAll(async () => {
    client = new pg.Client({ connectionString: inject("databaseUrl") });
    await client.connect();
  });
  afterAll(() => client.end());

  async function actualTables() {
    const { rows } = await client.query<{
      table_name: string;
      column_name: string;
      udt_name: string;
      is_nullable: "YES" | "NO";
      datetime_precision: number | null;
    }>(
      `SELECT table_name, column_name, udt_name, is_nullable, datetime_precision
         FROM information_schema.columns
        WHERE table_schema = 'public' AND table_name <> '_prisma_migrations'`,
    );
    const tables = new Map<string, Map<string, { type: string; nullable: boolean }>>();
    for (const r of rows) {
      const type = r.udt_name.startsWith("timestamp") ? `${r.udt_name}(${r.datetime_precision})` : r.udt_name;
      const columns = tables.get(r.table_name) ?? new Map();
      columns.set(r.column_name, { type, nullable: r.is_nullable === "YES" });
      tables.set(r.table_name, columns);
    }
    return tables;
  }

  async function actualUniques() {
    const { rows } = await client.query<{ table: string; columns: string[] }>(
      `SELECT t.relname AS table, array_agg(a.attname::text ORDER BY k.ord) AS columns
         FROM pg_index i
         JOIN pg_class t ON t.oid = i.indrelid
         JOIN pg_namespace n ON n.oid = t.relnamespace
         JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord) ON true
         JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum
        WHERE n.nspname = 'public' AND i.indisunique AND t.relname <> '_prisma_migrations'
        GROUP BY t.relname, i.indexrelid`,
    );
    return rows.map((r) => `${r.table}(${r.columns.join(",")})`).sort();
  }

  it("has exactly the tables, columns, types and nullability of the schema", async () => {
    const schema = parseSchema(await readFile(schemaPath, "utf8"));
    const expected = Object.fromEntries(
      schema.models.map((m) => [
        m.table,
        Object.fromEntries(
          m.fields.map((f) => [
            f.column,
            { type: expectedColumnType(f, schema.enums), nullable: f.optional || f.list },
          ]),
        ),
      ]),
    );
    const tables = await actualTables();
    const actual = Object.fromEntries([...tables].map(([table, columns]) => [table, Object.fromEntries(columns)]));
    expect(actual).toEqual(expected);
  });

  it("has exactly the unique constraints of the schema", async () => {
    const schema = parseSchema(await readFile(schemaPath, "utf8"));
    const expected = schema.models.flatMap((m) => m.uniques.map((cols) => `${m.table}(${cols.join(",")})`)).sort();
    expect(await actualUniques()).toEqual(expected);
  });

  it("has the enum types and values of the schema", async () => {
    const schema = parseSchema(await readFile(schemaPath, "utf8"));
    const { rows } = await client.query<{ name: string; labels: string[] }>(
      `SELECT t.typname AS name, array_agg(e.enumlabel::text ORDER BY e.enumsortorder) AS labels
         FROM pg_type t JOIN pg_enum e ON e.enumtypid = t.oid GROUP BY t.typname`,
    );
    expect(Object.fromEntries(rows.map((r) => [r.name, r.labels]))).toEqual(Object.fromEntries(schema.enums));
  });
});
