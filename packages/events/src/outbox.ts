import type { Tx } from "@ipaas/db";
import { newId } from "@ipaas/domain";
import { aggregateOf, assertValidEvent, type DomainEvent, subjectFor } from "./contracts";

export interface AppendToOutboxOptions {
  /** First token(s) of the subject; "ipaas" unless a test or deployment needs its own. */
  subjectPrefix?: string;
}

/**
 * Records an event in the transactional outbox, inside the caller's transaction: the event exists if and
 * only if the change it announces commits. The relay publishes it later. Returns the outbox id, which is
 * also the message id (`Nats-Msg-Id`) JetStream deduplicates on.
 *
 * Throws before writing anything when the event does not match its schema (including any extra field).
 */
export async function appendToOutbox(tx: Tx, event: DomainEvent, options: AppendToOutboxOptions = {}): Promise<string> {
  assertValidEvent(event);
  const id = newId("evt");
  await tx.outboxEvent.create({
    data: {
      id,
      subject: subjectFor(event, options.subjectPrefix),
      type: event.type,
      aggregateId: aggregateOf(event),
      payload: event.data,
    },
  });
  return id;
}
