import type { EventsLogger, MessageContext, OrganizationEvent } from "@ipaas/events";
import type { ClientRecord } from "./clients";

/**
 * The version an organization event announces: the credential version for a rotation, the
 * organization's (Tenant.version) for an update or a deletion.
 */
export function announcedVersion(event: OrganizationEvent): number {
  switch (event.type) {
    case "organization.credential_rotated":
      return event.data.credentialVersion;
    case "organization.updated":
    case "organization.deleted":
      return event.data.version;
  }
}

/**
 * Whether a cached client already reflects an event: it was read at the version the event announces or a
 * later one. Versions only grow, so such an event (a duplicate, or one overtaken by a later change) has
 * nothing to tell this cache. Each event is compared with the version it is about, since a rotation and an
 * organization update bump different counters.
 */
export function reflectsEvent(client: ClientRecord, event: OrganizationEvent): boolean {
  const version = announcedVersion(event);
  return event.type === "organization.credential_rotated"
    ? client.version >= version
    : client.organizationVersion >= version;
}

/** What an event did to this instance's cache. */
export type SyncOutcome = "invalidated" | "already_current";

export interface SyncedEvent {
  type: OrganizationEvent["type"];
  organizationId: string;
  version: number;
  messageId: string;
  redelivered: boolean;
  outcome: SyncOutcome;
}

/** The part of the client cache the sync drives. */
export interface SyncableCache {
  invalidateOrganizationUnlessCurrent(organizationId: string, isCurrent: (client: ClientRecord) => boolean): boolean;
  clear(): void;
}

export interface SyncCounts {
  invalidated: number;
  alreadyCurrent: number;
  /** Whole-cache clears after a (re)connect to NATS. */
  resyncs: number;
}

/**
 * Keeps one api-auth instance's client cache in step with the organization events. It never copies state
 * out of an event: it drops the cached view, and the next request reads Postgres, which is the truth. That
 * makes applying an event idempotent, and the version rule only spares a reload when the cache is already
 * at least as fresh as the event.
 */
export class OrganizationSync {
  readonly #listeners = new Set<(synced: SyncedEvent) => void>();
  readonly #counts: SyncCounts = { invalidated: 0, alreadyCurrent: 0, resyncs: 0 };

  constructor(
    private readonly cache: SyncableCache,
    private readonly logger: EventsLogger,
  ) {}

  apply(event: OrganizationEvent, context: Pick<MessageContext, "messageId" | "redelivered">): SyncedEvent {
    const { organizationId } = event.data;
    const invalidated = this.cache.invalidateOrganizationUnlessCurrent(organizationId, (client) =>
      reflectsEvent(client, event),
    );
    const synced: SyncedEvent = {
      type: event.type,
      organizationId,
      version: announcedVersion(event),
      messageId: context.messageId,
      redelivered: context.redelivered,
      outcome: invalidated ? "invalidated" : "already_current",
    };
    if (invalidated) this.#counts.invalidated += 1;
    else this.#counts.alreadyCurrent += 1;
    this.logger.info(synced, "organization event applied to the client cache");
    this.#notify(synced);
    return synced;
  }

  /**
   * Forgets the whole cache. Called after every (re)connect to NATS: while this instance had no consumer,
   * events may have gone by unseen, and a reload from Postgres is the only view known to be current.
   */
  resync(reason: string): void {
    this.cache.clear();
    this.#counts.resyncs += 1;
    this.logger.info({ reason }, "client cache cleared to resynchronize with the organization events");
  }

  /** Lets metrics and tests see each event's outcome. Returns a function that stops listening. */
  observe(listener: (synced: SyncedEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => {
      this.#listeners.delete(listener);
    };
  }

  get counts(): Readonly<SyncCounts> {
    return { ...this.#counts };
  }

  #notify(synced: SyncedEvent): void {
    for (const listener of this.#listeners) {
      try {
        listener(synced);
      } catch (error) {
        // The cache has already been brought up to date; a failing observer must not make the event retry.
        this.logger.warn({ err: String(error) }, "organization sync observer failed");
      }
    }
  }
}
