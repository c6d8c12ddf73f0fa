// A reader for the parts of schema.prisma the agreement test compares: models, their table and column
// names, scalar types, nullability, lists, and unique constraints. Not a general PSL parser.

export interface SchemaField {
  name: string;
  column: string;
  type: string;
  optional: boolean;
  list: boolean;
  nativeType: string | null;
  unique: boolean;
  id: boolean;
  isRelation: boolean;
}

export interface SchemaModel {
  name: string;
  table: string;
  fields: SchemaField[];
  /** Column lists of @@unique, @unique and (composite) @@id constraints. */
  uniques: string[][];
}

export interface ParsedSchema {
  models: SchemaModel[];
  enums: Map<string, string[]>;
}

const SCALARS = new Set(["String", "Int", "BigInt", "Boolean", "DateTime", "Json", "Float", "Decimal", "Bytes"]);

function blocks(source: string, keyword: string): Array<{ name: string; body: string }> {
  const re = new RegExp(`^${keyword}\\s+(\\w+)\\s*\\{([\\s\\S]*?)^\\}`, "gm");
  return [...source.matchAll(re)].map((m) => ({ name: m[1] ?? "", body: m[2] ?? "" }));
}

function listArg(attr: string): string[] {
  const inner = /\[([^\]]*)\]/.exec(attr)?.[1] ?? "";
  return inner
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
}

export function parseSchema(source: string): ParsedSchema {
  const stripped = source.replace(/\/\/.*$/gm, "");
  const enums = new Map(
    blocks(stripped, "enum").map((b) => [b.name, b.body.split(/\s+/).filter((w) => /^\w+$/.test(w))]),
  );
  const models = blocks(stripped, "model").map(({ name, body }) => {
    const lines = body
      .split("\n")
      .map((l) => l.trim())
      .filter(Boolean);
    const fields: SchemaField[] = [];
    const blockAttrs: string[] = [];
    for (const line of lines) {
      if (line.startsWith("@@")) {
        blockAttrs.push(line);
        continue;
      }
      const m = /^(\w+)\s+(\w+)(\[\])?(\?)?\s*(.*)$/.exec(line);
      if (!m) continue;
      const [, fieldName = "", type = "", list, optional, attrs = ""] = m;
      const isRelation = !SCALARS.has(type) && !enums.has(type);
      fields.push({
        name: fieldName,
        column: /@map\("([^"]+)"\)/.exec(attrs)?.[1] ?? fieldName,
        type,
        optional: Boolean(optional),
        list: Boolean(list),
        nativeType: /@db\.(\w+(?:\([^)]*\))?)/.exec(attrs)?.[1] ?? null,
        unique: /@unique\b/.test(attrs),
        id: /@id\b/.test(attrs),
        isRelation,
      });
    }
    const columnOf = (f: string) => fields.find((x) => x.name === f)?.column ?? f;
    const uniques = [
      ...fields.filter((f) => f.unique || f.id).map((f) => [f.column]),
      ...blockAttrs.filter((a) => /^@@(unique|id)\b/.test(a)).map((a) => listArg(a).map(columnOf)),
    ];
    const table = /@@map\("([^"]+)"\)/.exec(blockAttrs.join("\n"))?.[1] ?? name;
    return { name, table, fields: fields.filter((f) => !f.isRelation), uniques };
  });
  return { models, enums };
}

/** The Postgres type (`udt_name` plus precision) Prisma creates for a field. */
export function expectedColumnType(field: SchemaField, enums: Map<string, string[]>): string {
  const base = (() => {
    if (enums.has(field.type)) return field.type;
    if (field.nativeType) {
      const m = /^(\w+)(?:\((\d+)\))?$/.exec(field.nativeType);
      const native = (m?.[1] ?? "").toLowerCase();
      const precision = m?.[2];
      if (native === "timestamptz") return `timestamptz(${precision ?? 6})`;
      if (native === "timestamp") return `timestamp(${precision ?? 6})`;
      return native;
    }
    switch (field.type) {
      case "String":
        return "text";
      case "Int":
        return "int4";
      case "BigInt":
        return "int8";
      case "Boolean":
        return "bool";
      case "DateTime":
        return "timestamp(3)";
      case "Json":
        return "jsonb";
      case "Float":
        return "float8";
      case "Bytes":
        return "bytea";
      default:
        return field.type;
    }
  })();
  return field.list ? `_${base.replace(/\(.*\)$/, "")}` : base;
}
