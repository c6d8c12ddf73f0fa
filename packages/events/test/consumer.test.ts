import type { JetStreamManager } from "@nats-io/jetstream";
import { headers } from "@nats-io/transport-node";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  aggregateOf,
  type DomainEvent,
  EVENT_TYPE_HEADER,
  ensureStream,
  type MessageContext,
  NatsLink,
  organizationSubjects,
  type RunningConsumer,
  startConsumer,
  subjectFor,
} from "../src/index";
import { memoryLogger, orgDeleted, orgUpdated, SHARED_NATS, uniq, waitFor } from "./helpers";

const link = new NatsLink({ servers: SHARED_NATS, name: "events-consumer-test" });
let jsm: JetStreamManager;
const streams: string[] = [];
const running: RunningConsumer[] = [];

async function freshStream(): Promise<{ stream: string; prefix: string }> {
  const prefix = uniq("cons");
  const stream = prefix.toUpperCase();
  streams.push(stream);
  await ensureStream(jsm, { name: stream, subjects: [organizationSubjects(prefix)] });
  return { stream, prefix };
}

/** Publishes as the relay does: JSON data as the body, the type in a header, a message id. */
async function publish(prefix: string, event: DomainEvent, msgID = uniq("evt")): Promise<void> {
  const h = headers();
  h.set(EVENT_TYPE_HEADER, event.type);
  await link.jetstream().publish(subjectFor(event, prefix), JSON.stringify(event.data), { msgID, headers: h });
}

function consume(options: Omit<Parameters<typeof startConsumer>[0], "link">): RunningConsumer {
  const c = startConsumer({ link, ...options });
  running.push(c);
  return c;
}

beforeAll(async () => {
  link.start();
  await waitFor("NATS", () => link.isConnected());
  jsm = await link.jetstreamManager();
});

afterEach(async () => {
  await Promise.all(running.splice(0).map((r) => r.stop()));
});

afterAll(async () => {
  for (const s of streams) await jsm.streams.delete(s).catch(() => undefined);
  await link.close();
});

describe("startConsumer", () => {
  it("terminates a poison message and keeps handling the events after it", async () => {
    const { stream, prefix } = await freshStream();
    const logger = memoryLogger();
    const received: Array<{ event: DomainEvent; ctx: MessageContext }> = [];
    consume({
      stream,
      durableName: "poison",
      logger,
      ackWaitMs: 1_000,
      handler: async (event, ctx) => {
        received.push({ event, ctx });
      },
    });
    const subject = `${prefix}.organization.org_x.updated`;
    const typed = () => {
      const h = headers();
      h.set(EVENT_TYPE_HEADER, "organization.updated");
      return h;
    };
    await link.jetstream().publish(subject, "{this is not json", { headers: typed(), msgID: "poison-1" });
    await link.jetstream().publish(subject, JSON.stringify({ organizationId: "org_x" }), { headers: typed() });
    await link.jetstream().publish(subject, JSON.stringify(orgUpdated("org_x").data)); // no type header
    const valid = orgUpdated();
    await publish(prefix, valid, "valid-1");

    await waitFor("the valid event", () => received.length === 1);
    expect(received[0]?.event).toEqual(valid);
    expect(received[0]?.ctx).toMatchObject({ messageId: "valid-1", redelivered: false, streamSequence: 4 });

    const poison = logger.entries.filter((e) => e.msg === "poison event terminated");
    expect(poison).toHaveLength(3);
    expect(poison[0]?.level).toBe("error");
    expect(poison[0]?.obj).toMatchObject({ seq: 1, messageId: "poison-1", reason: expect.stringMatching(/JSON/) });
    // Terminated, not left for redelivery: nothing is pending and nothing comes back after ackWait.
    await waitFor("all acks", async () => (await jsm.consumers.info(stream, "poison")).num_ack_pending === 0);
    await new Promise((r) => setTimeout(r, 1_300));
    const info = await jsm.consumers.info(stream, "poison");
    expect(info.num_redelivered).toBe(0);
    expect(info.num_pending).toBe(0);
    expect(received).toHaveLength(1);
  });

  it("naks a failed handler with a delay and gets the event again", async () => {
    const { stream, prefix } = await freshStream();
    const attempts: MessageContext[] = [];
    consume({
      stream,
      durableName: "retry",
      nakDelayMs: () => 100,
      handler: async (_event, ctx) => {
        attempts.push(ctx);
        if (attempts.length < 3) throw new Error("database unavailable");
      },
    });
    await publish(prefix, orgDeleted(), "retry-1");
    await waitFor("the third delivery", () => attempts.length === 3);
    expect(attempts.map((a) => [a.messageId, a.redelivered, a.deliveryCount])).toEqual([
      ["retry-1", false, 1],
      ["retry-1", true, 2],
      ["retry-1", true, 3],
    ]);
    await waitFor("the ack", async () => (await jsm.consumers.info(stream, "retry")).num_ack_pending === 0);
  });

  it("shares a durable consumer between instances and gives every ephemeral consumer every event", async () => {
    const { stream, prefix } = await freshStream();
    const durableSeen: string[] = [];
    const ephemeralSeen: [string[], string[]] = [[], []];
    for (let i = 0; i < 2; i++) {
      consume({
        stream,
        durableName: "shared",
        handler: async (e) => {
          durableSeen.push(aggregateOf(e));
        },
      });
    }
    for (const seen of ephemeralSeen) {
      consume({
        stream,
        handler: async (e) => {
          seen.push(aggregateOf(e));
        },
      });
    }
    // Ephemeral consumers start at "new": wait until both exist before publishing.
    await waitFor("two ephemeral consumers", async () => {
      const names: string[] = [];
      for await (const c of jsm.consumers.list(stream)) names.push(c.name);
      return names.filter((n) => n !== "shared").length === 2;
    });
    const events = Array.from({ length: 10 }, () => orgUpdated());
    for (const e of events) await publish(prefix, e);
    const ids = events.map((e) => aggregateOf(e));

    await waitFor("every delivery", () => durableSeen.length >= 10 && ephemeralSeen.every((s) => s.length >= 10));
    await new Promise((r) => setTimeout(r, 200));
    expect([...durableSeen].sort()).toEqual([...ids].sort());
    expect(ephemeralSeen[0]).toEqual(ids);
    expect(ephemeralSeen[1]).toEqual(ids);

    // Stopping an ephemeral consumer removes it from the server.
    await Promise.all(running.splice(0).map((r) => r.stop()));
    const left: string[] = [];
    for await (const c of jsm.consumers.list(stream)) left.push(c.name);
    expect(left).toEqual(["shared"]);
  });

  it("starts an ephemeral consumer from a given time", async () => {
    const { stream, prefix } = await freshStream();
    const before = orgUpdated();
    await publish(prefix, before);
    await new Promise((r) => setTimeout(r, 20));
    const from = new Date();
    const after = [orgUpdated(), orgDeleted()];
    for (const e of after) await publish(prefix, e);
    const seen: DomainEvent[] = [];
    consume({
      stream,
      start: { startTime: from },
      handler: async (e) => {
        seen.push(e);
      },
    });
    await waitFor("the later events", () => seen.length === 2);
    expect(seen).toEqual(after);
  });
});
