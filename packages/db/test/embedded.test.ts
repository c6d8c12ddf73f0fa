// The embedded database (PGlite in the process) with the same migrations, migrator, Prisma client,
// prepared statements and notifications the services use on a Postgres server.
import { spawnSync } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type EmbeddedDatabase,
  EmbeddedDatabaseBusy,
  listen,
  migrationsDir,
  openEmbeddedDatabase,
  readMigrations,
  runPrepared,
} from "../src/index";

describe("embedded database", () => {
  let folder: string;
  let embedded: EmbeddedDatabase;
  beforeAll(async () => {
    folder = await mkdtemp(join(tmpdir(), "ipaas-embedded-"));
    embedded = await openEmbeddedDatabase(join(folder, "pg"));
  }, 60_000);
  afterAll(async () => {
    await embedded?.close();
    await rm(folder, { recursive: true, force: true });
  });

  it("takes every migration with the same migrator, once", async () => {
    const names = (await readMigrations(migrationsDir)).map((m) => m.name);
    expect((await embedded.migrate(migrationsDir)).applied).toEqual(names);
    expect(await embedded.migrate(migrationsDir)).toEqual({ applied: [], alreadyApplied: names });
  }, 60_000);

  it("answers the Prisma client, prepared statements and interactive transactions", async () => {
    const { db } = embedded;
    await db.tenant.create({ data: { id: "main_embedded", kind: "MAIN", name: "Platform owner" } });
    const rows = await runPrepared<{ id: string; createdAt: Date }>(
      db,
      { name: "embedded-tenant", text: `SELECT id, "createdAt" FROM tenants WHERE id = $1` },
      ["main_embedded"],
    );
    expect(rows).toEqual([{ id: "main_embedded", createdAt: expect.any(Date) }]);
    // A transaction that throws leaves nothing behind.
    await expect(
      db.$transaction(async (tx) => {
        await tx.tenant.update({ where: { id: "main_embedded" }, data: { name: "renamed" } });
        throw new Error("undo");
      }),
    ).rejects.toThrow("undo");
    expect((await db.tenant.findUniqueOrThrow({ where: { id: "main_embedded" } })).name).toBe("Platform owner");
  });

  it("delivers the notifications the outbox's trigger sends", async () => {
    const { db } = embedded;
    let heard = 0;
    const stop = await listen(db, "ipaas_outbox", () => {
      heard += 1;
    });
    await db.outboxEvent.create({
      data: { id: "evt_embedded", subject: "test.embedded", type: "test.embedded", aggregateId: "a", payload: {} },
    });
    await expect.poll(() => heard).toBeGreaterThan(0);
    await stop();
  });

  it("keeps its data in its folder across a restart", async () => {
    await embedded.close();
    embedded = await openEmbeddedDatabase(join(folder, "pg"));
    expect(await embedded.db.tenant.count({ where: { id: "main_embedded" } })).toBe(1);
    expect((await embedded.migrate(migrationsDir)).applied).toEqual([]);
  }, 60_000);

  it("lets one process at a time open its folder, and takes over the lock of one that has exited", async () => {
    const dir = join(folder, "pg");
    // A live process (this one's parent) holds it: opening it again would be a second Postgres on the same files.
    const holder = spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"]);
    const exitedPid = Number(holder.stdout.toString());
    await embedded.close();
    await writeFile(`${dir}.lock`, String(process.ppid));
    const busy = await openEmbeddedDatabase(dir).then(
      () => null,
      (error: unknown) => error,
    );
    expect(busy).toBeInstanceOf(EmbeddedDatabaseBusy);
    expect((busy as EmbeddedDatabaseBusy).pid).toBe(process.ppid);
    await writeFile(`${dir}.lock`, String(exitedPid));
    embedded = await openEmbeddedDatabase(dir);
    expect(await readFile(`${dir}.lock`, "utf8")).toBe(String(process.pid));
    await embedded.close();
    await expect(readFile(`${dir}.lock`, "utf8")).rejects.toThrow(/ENOENT/);
    embedded = await openEmbeddedDatabase(dir);
  }, 60_000);
});
