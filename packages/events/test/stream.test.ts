import { AckPolicy, type JetStreamManager, StorageType } from "@nats-io/jetstream";
import { nanos } from "@nats-io/transport-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureDurableConsumer, ensureStream, NatsLink } from "../src/index";
import { SHARED_NATS, uniq, waitFor } from "./helpers";

const link = new NatsLink({ servers: SHARED_NATS, name: "events-stream-test" });
const created: string[] = [];
let jsm: JetStreamManager;

beforeAll(async () => {
  link.start();
  await waitFor("NATS", () => link.isConnected());
  jsm = await link.jetstreamManager();
});

afterAll(async () => {
  for (const name of created) await jsm.streams.delete(name).catch(() => undefined);
  await link.close();
});

describe("ensureStream", () => {
  it("creates a file stream and is idempotent", async () => {
    const name = uniq("STREAM");
    created.push(name);
    const subjects = [`${name}.organization.>`];
    const first = await ensureStream(jsm, { name, subjects });
    expect(first.config.storage).toBe(StorageType.File);
    expect(first.config.duplicate_window).toBe(nanos(120_000));
    expect(first.config.subjects).toEqual(subjects);

    const second = await ensureStream(jsm, { name, subjects });
    expect(second.config).toEqual(first.config);
    expect(second.created).toEqual(first.created);
  });

  it("updates the subjects and duplicate window of an existing stream", async () => {
    const name = uniq("STREAM");
    created.push(name);
    await ensureStream(jsm, { name, subjects: [`${name}.a.>`] });
    const updated = await ensureStream(jsm, {
      name,
      subjects: [`${name}.a.>`, `${name}.b.>`],
      duplicateWindowMs: 60_000,
      maxAgeMs: 3_600_000,
    });
    expect(updated.config.subjects).toEqual([`${name}.a.>`, `${name}.b.>`]);
    expect(updated.config.duplicate_window).toBe(nanos(60_000));
    expect(updated.config.max_age).toBe(nanos(3_600_000));
    const again = await ensureStream(jsm, {
      name,
      subjects: [`${name}.b.>`, `${name}.a.>`],
      duplicateWindowMs: 60_000,
    });
    expect(again.config).toEqual(updated.config);
  });
});

describe("ensureDurableConsumer", () => {
  it("creates an explicit-ack durable consumer and is idempotent", async () => {
    const name = uniq("STREAM");
    created.push(name);
    await ensureStream(jsm, { name, subjects: [`${name}.>`] });
    const options = {
      name: "api_auth",
      filterSubjects: [`${name}.organization.>`],
      ackWaitMs: 10_000,
      maxDeliver: 5,
      backoffMs: [100, 1_000],
    };
    const first = await ensureDurableConsumer(jsm, name, options);
    expect(first.config.durable_name).toBe("api_auth");
    expect(first.config.ack_policy).toBe(AckPolicy.Explicit);
    expect(first.config.filter_subject).toBe(`${name}.organization.>`);
    expect(first.config.max_deliver).toBe(5);
    expect(first.config.backoff).toEqual([nanos(100), nanos(1_000)]);

    const second = await ensureDurableConsumer(jsm, name, options);
    expect(second.config).toEqual(first.config);
    expect(second.created).toEqual(first.created);
  });

  it("updates an existing durable consumer to new settings", async () => {
    const name = uniq("STREAM");
    created.push(name);
    await ensureStream(jsm, { name, subjects: [`${name}.>`] });
    await ensureDurableConsumer(jsm, name, { name: "worker", ackWaitMs: 10_000, maxDeliver: 5, backoffMs: [100] });
    const updated = await ensureDurableConsumer(jsm, name, { name: "worker", ackWaitMs: 20_000, maxDeliver: -1 });
    expect(updated.config.ack_wait).toBe(nanos(20_000));
    expect(updated.config.max_deliver).toBe(-1);
    expect(updated.config.backoff ?? []).toEqual([]);
  });

  it("refuses a backoff longer than maxDeliver allows", async () => {
    await expect(
      ensureDurableConsumer(jsm, "UNUSED", { name: "x", ackWaitMs: 1_000, maxDeliver: 2, backoffMs: [1, 2] }),
    ).rejects.toThrow(/maxDeliver/);
  });
});
