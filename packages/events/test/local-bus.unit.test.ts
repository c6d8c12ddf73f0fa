import { describe, expect, it } from "vitest";
import { LocalBus, type LocalFeed, LocalPublishRefused, subjectMatches } from "../src/local-bus";
import type { EventMessage, GiveUp } from "../src/transport";

const text = (s: string) => new TextEncoder().encode(s);
const read = (m: EventMessage | null) => (m ? new TextDecoder().decode(m.data) : null);

/**
 * A feed's messages one at a time, or null when none comes within `ms`. A wait that timed out is kept for the
 * next call: the message it receives later is that call's, as a consumer's loop would receive it.
 */
function open(feed: LocalFeed) {
  const it = feed[Symbol.asyncIterator]();
  let waiting: Promise<IteratorResult<EventMessage>> | null = null;
  return {
    feed,
    async next(ms = 200): Promise<EventMessage | null> {
      waiting ??= it.next();
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<"timeout">((resolve) => {
        timer = setTimeout(() => resolve("timeout"), ms);
      });
      const result = await Promise.race([waiting, timeout]);
      clearTimeout(timer);
      if (result === "timeout") return null;
      waiting = null;
      return result.done ? null : result.value;
    },
  };
}

describe("the in-process event bus", () => {
  it("matches subjects as NATS does", () => {
    expect(subjectMatches("ipaas.organization.>", "ipaas.organization.updated")).toBe(true);
    expect(subjectMatches("ipaas.organization.>", "ipaas.organization")).toBe(false);
    expect(subjectMatches("ipaas.*.updated", "ipaas.organization.updated")).toBe(true);
    expect(subjectMatches("ipaas.*.updated", "ipaas.organization.deleted")).toBe(false);
    expect(subjectMatches("ipaas.token.revoked", "ipaas.token.revoked.extra")).toBe(false);
  });

  it("delivers in order, stores a repeated message id once, and refuses a subject no stream captures", async () => {
    const bus = new LocalBus();
    bus.ensureStream({ name: "S", subjects: ["a.>"] });
    expect(bus.publish("a.one", text("1"), { msgId: "m1" })).toEqual({ stream: "S", seq: 1, duplicate: false });
    expect(bus.publish("a.one", text("1 again"), { msgId: "m1" })).toEqual({ stream: "S", seq: 1, duplicate: true });
    bus.publish("a.two", text("2"), { msgId: "m2", headers: new Map([["Ipaas-Event-Type", "x"]]) });
    expect(() => bus.publish("b.one", text("?"))).toThrow(LocalPublishRefused);

    const { feed, next } = open(bus.consumer("S", "durable").feed());
    const first = await next();
    expect([read(first), first?.streamSequence, first?.deliveryCount, first?.redelivered]).toEqual(["1", 1, 1, false]);
    first?.ack();
    const second = await next();
    expect(second?.header("Ipaas-Event-Type")).toBe("x");
    second?.ack();
    expect(await next()).toBeNull();
    // A message published while the consumer waits wakes it.
    const waiting = next(1_000);
    bus.publish("a.three", text("3"));
    expect(read(await waiting)).toBe("3");
    void feed.close();
  });

  it("redelivers after a nak's delay or a missed ack, stops at the delivery limit, and never after a term", async () => {
    const bus = new LocalBus();
    bus.ensureStream({ name: "S", subjects: ["a.>"] });
    bus.publish("a.nak", text("nak"));
    bus.publish("a.term", text("term"));
    const { feed, next } = open(bus.consumer("S", "c", { ackWaitMs: 60, maxDeliver: 2 }).feed());
    const nak = await next();
    nak?.nak(30);
    const term = await next();
    expect(read(term)).toBe("term");
    term?.term();
    const again = await next();
    expect([read(again), again?.deliveryCount, again?.redelivered]).toEqual(["nak", 2, true]);
    // Not acknowledged within the ack wait, and delivered twice already: given up.
    expect(await next(300)).toBeNull();
    void feed.close();
  });

  it("reports each message given up, at the delivery limit or terminated, to one watcher of its stream in turn", async () => {
    const bus = new LocalBus();
    // Watchers may come before the stream does.
    const first: GiveUp[] = [];
    const second: GiveUp[] = [];
    const elsewhere: GiveUp[] = [];
    const stopFirst = bus.watchGiveUps("S", (g) => first.push(g));
    bus.watchGiveUps("S", (g) => second.push(g));
    bus.watchGiveUps("T", (g) => elsewhere.push(g));
    bus.ensureStream({ name: "S", subjects: ["a.>"] });
    bus.ensureStream({ name: "T", subjects: ["t.>"] });
    bus.publish("a.fail", text("fail"));
    bus.publish("a.term", text("term"));
    bus.publish("a.ok", text("ok"));
    const { feed, next } = open(bus.consumer("S", "c", { maxDeliver: 2 }).feed());
    (await next())?.nak(0);
    const again = await next();
    expect([read(again), again?.deliveryCount]).toEqual(["fail", 2]);
    again?.nak(0);
    // Its third delivery is due: given up instead, and the next message comes.
    const term = await next();
    expect(read(term)).toBe("term");
    expect(first).toEqual([
      { stream: "S", consumer: "c", streamSequence: 1, deliveries: 2, reason: "max_deliveries" } satisfies GiveUp,
    ]);
    term?.term();
    term?.term();
    expect(second).toEqual([
      { stream: "S", consumer: "c", streamSequence: 2, deliveries: 1, reason: "terminated" } satisfies GiveUp,
    ]);
    const ok = await next();
    expect(read(ok)).toBe("ok");
    ok?.ack();
    expect(await next()).toBeNull();

    // With one watcher left, it hears of every give-up; a watcher of another stream hears of none.
    stopFirst();
    bus.publish("a.again", text("again"));
    (await next())?.term();
    expect(first).toHaveLength(1);
    expect(second.map((g) => g.streamSequence)).toEqual([2, 4]);
    expect(elsewhere).toEqual([]);
    void feed.close();
  });

  it("keeps a durable consumer's place across feeds, and starts new ones where they ask", async () => {
    const bus = new LocalBus();
    bus.ensureStream({ name: "S", subjects: ["a.>", "b.>"] });
    bus.publish("a.1", text("a1"));
    bus.publish("b.1", text("b1"));
    const durable = bus.consumer("S", "d", { filterSubjects: ["b.>"] });
    const one = open(durable.feed());
    (await one.next())?.ack();
    void one.feed.close();
    bus.publish("b.2", text("b2"));
    const two = open(bus.consumer("S", "d").feed());
    expect(read(await two.next())).toBe("b2");
    void two.feed.close();

    const fresh = open(bus.consumer("S", "e", { deliver: "new" }).feed());
    expect(await fresh.next()).toBeNull();
    bus.publish("a.2", text("a2"));
    expect(read(await fresh.next())).toBe("a2");
    void fresh.feed.close();
    const fromSeq = open(bus.consumer("S", "f", { deliver: { startSequence: 3 } }).feed());
    expect(read(await fromSeq.next())).toBe("b2");
    void fromSeq.feed.close();
    bus.deleteConsumer("S", "f");
  });

  it("forgets acknowledged messages in a work queue and old ones past the maximum age", async () => {
    let now = 1_000_000;
    const bus = new LocalBus(() => now);
    bus.ensureStream({ name: "Q", subjects: ["q.>"], retention: "workqueue" });
    bus.ensureStream({ name: "L", subjects: ["l.>"], maxAgeMs: 1_000 });
    bus.publish("q.1", text("q1"));
    bus.publish("l.1", text("l1"));
    const { feed, next } = open(bus.consumer("Q", "worker").feed());
    (await next())?.ack();
    void feed.close();
    expect(bus.size("Q")).toBe(0);
    expect(bus.size("L")).toBe(1);
    now += 1_001;
    expect(bus.size("L")).toBe(0);
    // A repeated message id is caught only within the duplicate window.
    bus.ensureStream({ name: "D", subjects: ["d.>"], duplicateWindowMs: 100 });
    expect(bus.publish("d.1", text("1"), { msgId: "x" }).duplicate).toBe(false);
    now += 50;
    expect(bus.publish("d.1", text("1"), { msgId: "x" }).duplicate).toBe(true);
    now += 101;
    expect(bus.publish("d.1", text("1"), { msgId: "x" }).duplicate).toBe(false);
  });
});
