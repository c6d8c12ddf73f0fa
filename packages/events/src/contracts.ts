import { type Static, Type } from "typebox";
import { Value } from "typebox/value";

/*
 * The events one service announces and the other applies, with their TypeBox schemas.
 *
 * Events NEVER carry secrets: no client secret, no secret hash (current or previous), no token, no key
 * material, no personal data. They say *that* something changed and which version is now current; a
 * consumer that needs the new credential material reads it from the database. The data schemas are
 * closed (`additionalProperties: false`) so a producer cannot smuggle an extra field such as a hash into
 * an event: `assertValidEvent` (called by `appendToOutbox`) refuses it.
 *
 * On the consuming side `parseEvent` is tolerant of fields it does not know (they are dropped), so a
 * producer may add an optional field before every consumer has been upgraded.
 */

/** The header that carries the event type on every published message. */
export const EVENT_TYPE_HEADER = "Ipaas-Event-Type";
/** The default first token of every event subject. */
export const DEFAULT_SUBJECT_PREFIX = "ipaas";

/** A subject token: no dots, wildcards or whitespace. Organization ids (`org_…`) always match. */
const SUBJECT_TOKEN = "^[A-Za-z0-9_-]+$";

const OrganizationId = Type.String({ minLength: 1, maxLength: 128, pattern: SUBJECT_TOKEN });
const Instant = Type.String({ format: "date-time" });
const Version = Type.Integer({ minimum: 1 });

export const CredentialRotatedData = Type.Object(
  {
    organizationId: OrganizationId,
    clientKey: Type.String({ minLength: 1 }),
    /** The credential version now current (OrganizationCredential.version). */
    credentialVersion: Version,
    /** Until when the replaced secret is still honoured; null when it stopped working at once. */
    previousSecretValidUntil: Type.Union([Instant, Type.Null()]),
    /** Tokens issued before this instant are inactive; null when the rotation kept existing tokens. */
    tokensNotBefore: Type.Union([Instant, Type.Null()]),
    occurredAt: Instant,
  },
  { additionalProperties: false },
);

export const OrganizationUpdatedData = Type.Object(
  {
    organizationId: OrganizationId,
    /** Tenant.version after the change; consumers ignore an event older than what they hold. */
    version: Version,
    status: Type.Union([Type.Literal("ACTIVE"), Type.Literal("SUSPENDED"), Type.Literal("PENDING")]),
    scopes: Type.Array(Type.String()),
    name: Type.String(),
    occurredAt: Instant,
  },
  { additionalProperties: false },
);

export const OrganizationDeletedData = Type.Object(
  {
    organizationId: OrganizationId,
    version: Version,
    occurredAt: Instant,
  },
  { additionalProperties: false },
);

/** A one-time code waits to be delivered: the worker reads where to and what from the database. */
export const OtpDeliveryRequestedData = Type.Object(
  {
    organizationId: OrganizationId,
    requestId: Type.String({ minLength: 1, maxLength: 64, pattern: SUBJECT_TOKEN }),
    occurredAt: Instant,
  },
  { additionalProperties: false },
);

/**
 * A token was revoked before its expiry (a partner's RFC 7009 revocation, a person signing out): every
 * api-auth instance adds its id to the set it checks tokens against. The id names the token; it is not one.
 */
export const TokenRevokedData = Type.Object(
  {
    /** The organization the token was issued to or for. */
    organizationId: OrganizationId,
    jti: Type.String({ minLength: 1, maxLength: 128 }),
    /** When the token would have expired anyway: the entry is useless after it. */
    expiresAt: Instant,
    occurredAt: Instant,
  },
  { additionalProperties: false },
);

/**
 * What a dashboard access token depends on changed: sessions ended, or the state of a user (status,
 * deletion, `tokensNotBefore`) or of a whole tenant. Every dashboard-auth instance drops what it holds in
 * memory about that user (or every user of the tenant when `userId` is null) and reads the database again.
 */
export const AccessChangedData = Type.Object(
  {
    tenantId: OrganizationId,
    userId: Type.Union([Type.String({ minLength: 1, maxLength: 128 }), Type.Null()]),
    occurredAt: Instant,
  },
  { additionalProperties: false },
);

/** Each event type and the schema of its data. */
export const EventDataSchemas = {
  "organization.credential_rotated": CredentialRotatedData,
  "organization.updated": OrganizationUpdatedData,
  "organization.deleted": OrganizationDeletedData,
  "otp.delivery_requested": OtpDeliveryRequestedData,
  "token.revoked": TokenRevokedData,
  "access.changed": AccessChangedData,
} as const;

export type EventType = keyof typeof EventDataSchemas;
export type EventData<T extends EventType> = Static<(typeof EventDataSchemas)[T]>;

export type CredentialRotatedEvent = {
  type: "organization.credential_rotated";
  data: EventData<"organization.credential_rotated">;
};
export type OrganizationUpdatedEvent = { type: "organization.updated"; data: EventData<"organization.updated"> };
export type OrganizationDeletedEvent = { type: "organization.deleted"; data: EventData<"organization.deleted"> };
export type OtpDeliveryRequestedEvent = { type: "otp.delivery_requested"; data: EventData<"otp.delivery_requested"> };
export type TokenRevokedEvent = { type: "token.revoked"; data: EventData<"token.revoked"> };
export type AccessChangedEvent = { type: "access.changed"; data: EventData<"access.changed"> };

/** The events about an organization itself, which api-auth's client cache applies. */
export type OrganizationEvent = CredentialRotatedEvent | OrganizationUpdatedEvent | OrganizationDeletedEvent;

/** Every event, discriminated by `type`. */
export type DomainEvent = OrganizationEvent | OtpDeliveryRequestedEvent | TokenRevokedEvent | AccessChangedEvent;

export function isOrganizationEvent(event: DomainEvent): event is OrganizationEvent {
  return event.type.startsWith("organization.");
}

/** The whole union as one schema (for documentation or validation of `{ type, data }` envelopes). */
export const DomainEventSchema = Type.Union([
  Type.Object({ type: Type.Literal("organization.credential_rotated"), data: CredentialRotatedData }),
  Type.Object({ type: Type.Literal("organization.updated"), data: OrganizationUpdatedData }),
  Type.Object({ type: Type.Literal("organization.deleted"), data: OrganizationDeletedData }),
  Type.Object({ type: Type.Literal("otp.delivery_requested"), data: OtpDeliveryRequestedData }),
  Type.Object({ type: Type.Literal("token.revoked"), data: TokenRevokedData }),
  Type.Object({ type: Type.Literal("access.changed"), data: AccessChangedData }),
]);

export const EVENT_TYPES = Object.keys(EventDataSchemas) as EventType[];

export function isEventType(value: string): value is EventType {
  return Object.hasOwn(EventDataSchemas, value);
}

/** A message that can never be applied (unknown type, invalid JSON, schema violation): terminate it, do not retry. */
export class PoisonMessageError extends Error {
  override name = "PoisonMessageError";
}

/** `organization.credential_rotated` → `credential_rotated`. */
export function shortType(type: EventType): string {
  return type.slice(type.indexOf(".") + 1);
}

function assertSubjectToken(what: string, value: string): void {
  if (!new RegExp(SUBJECT_TOKEN).test(value)) throw new Error(`${what} is not a valid subject token: ${value}`);
}

function assertSubjectPrefix(prefix: string): void {
  for (const token of prefix.split(".")) assertSubjectToken("subject prefix", token);
}

/** The tenant an event is about: its organization, or for access events the tenant (a bank, the platform). */
export function aggregateOf(event: DomainEvent): string {
  return event.type === "access.changed" ? event.data.tenantId : event.data.organizationId;
}

/**
 * `<prefix>.<family>.<tenant>.<short type>`, the family being the type's first part: e.g.
 * `ipaas.organization.org_123.updated`, `ipaas.otp.org_123.delivery_requested`.
 */
export function subjectFor(event: DomainEvent, prefix: string = DEFAULT_SUBJECT_PREFIX): string {
  assertSubjectPrefix(prefix);
  const aggregate = aggregateOf(event);
  assertSubjectToken("tenant", aggregate);
  const family = event.type.slice(0, event.type.indexOf("."));
  return `${prefix}.${family}.${aggregate}.${shortType(event.type)}`;
}

/** The subjects a stream (or consumer filter) needs to capture every organization event under `prefix`. */
export function organizationSubjects(prefix: string = DEFAULT_SUBJECT_PREFIX): string {
  assertSubjectPrefix(prefix);
  return `${prefix}.organization.>`;
}

/** A JetStream stream a service needs, and the subjects it keeps (for a subject prefix). */
export interface StreamDefinition {
  name: string;
  subjects: (prefix: string) => string[];
  /** `workqueue`: a message is removed once a consumer acknowledges it. Default `limits`. */
  retention?: "limits" | "workqueue";
  /** Messages older than this are discarded. Default: kept until the stream's other limits. */
  maxAgeMs?: number;
}

/** The stream every organization event is kept in (file storage; duplicates dropped by Nats-Msg-Id). */
export const ORGANIZATION_STREAM = {
  name: "IPAAS_ORGANIZATION_EVENTS",
  subjects: (prefix) => [organizationSubjects(prefix)],
} as const satisfies StreamDefinition;

/**
 * Revocations and access changes, which instances apply to what they hold in memory. Each instance reads
 * it from "now" and rebuilds its view from the database after every (re)connect, so a day of history is
 * plenty.
 */
export const ACCESS_STREAM = {
  name: "IPAAS_ACCESS_EVENTS",
  subjects: (prefix) => [`${prefix}.token.>`, `${prefix}.access.>`],
  maxAgeMs: 86_400_000,
} as const satisfies StreamDefinition;

/** Codes waiting for delivery: a work queue, each message handled by one worker and then removed. */
/**
 * One-time-code deliveries to be made, each taken by one instance. A request is worth nothing after a day
 * (codes live minutes, a notice of a contact change a day), so a message the consumer gave up on leaves the
 * queue then rather than staying for good.
 */
export const OTP_DELIVERY_STREAM = {
  name: "IPAAS_OTP_DELIVERY",
  subjects: (prefix) => [`${prefix}.otp.>`],
  retention: "workqueue",
  maxAgeMs: 86_400_000,
} as const satisfies StreamDefinition;

function describeErrors(type: EventType, data: unknown): string {
  const problems = [...Value.Errors(EventDataSchemas[type], data)]
    .slice(0, 5)
    // The path and the rule only: never the offending value.
    .map((e) => `${e.instancePath || "/"} ${e.message}`);
  return problems.join("; ");
}

/** Throws (a plain Error: a programming mistake, not a poison message) unless the event matches its closed schema. */
export function assertValidEvent(event: DomainEvent): void {
  if (!isEventType(event.type)) throw new Error(`unknown event type: ${String(event.type)}`);
  if (!Value.Check(EventDataSchemas[event.type], event.data)) {
    throw new Error(`invalid ${event.type} event: ${describeErrors(event.type, event.data)}`);
  }
}

/**
 * Validates a received message (its type header and its JSON body, which is the event's `data`) and
 * returns the typed event. Unknown fields are dropped. Throws PoisonMessageError when the message can
 * never be applied.
 */
export function parseEvent(type: string, json: string | Uint8Array): DomainEvent {
  if (!isEventType(type)) throw new PoisonMessageError(`unknown event type: ${JSON.stringify(type.slice(0, 100))}`);
  const text = typeof json === "string" ? json : new TextDecoder().decode(json);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new PoisonMessageError(`${type}: body is not valid JSON`);
  }
  const schema = EventDataSchemas[type];
  const data = typeof value === "object" && value !== null ? Value.Clean(schema, Value.Clone(value)) : value;
  if (!Value.Check(schema, data)) {
    throw new PoisonMessageError(`${type}: ${describeErrors(type, data)}`);
  }
  return { type, data } as DomainEvent;
}
