export {
  alertOnGiveUps,
  applyOnce,
  type EphemeralStart,
  type EventHandler,
  type MessageContext,
  type RunningConsumer,
  type StartConsumerOptions,
  startConsumer,
} from "./consumer";
export {
  ACCESS_STREAM,
  type AccessChangedEvent,
  aggregateOf,
  assertValidEvent,
  CredentialRotatedData,
  type CredentialRotatedEvent,
  DEFAULT_SUBJECT_PREFIX,
  type DomainEvent,
  DomainEventSchema,
  EVENT_TYPE_HEADER,
  EVENT_TYPES,
  type EventData,
  EventDataSchemas,
  type EventType,
  isEventType,
  isOrganizationEvent,
  ORGANIZATION_STREAM,
  OrganizationDeletedData,
  type OrganizationDeletedEvent,
  type OrganizationEvent,
  OrganizationUpdatedData,
  type OrganizationUpdatedEvent,
  OTP_DELIVERY_STREAM,
  type OtpDeliveryRequestedEvent,
  organizationSubjects,
  PoisonMessageError,
  parseEvent,
  type StreamDefinition,
  shortType,
  subjectFor,
  type TokenRevokedEvent,
} from "./contracts";
export { StreamFollower, type StreamFollowerOptions } from "./follower";
export {
  LocalBus,
  type LocalConsumerOptions,
  type LocalFeed,
  LocalPublishRefused,
  type LocalStreamOptions,
  subjectMatches,
} from "./local-bus";
export { LocalLink } from "./local-link";
export { type EventsLogger, silentLogger } from "./logger";
export {
  type LinkStatus,
  NatsLink,
  type NatsLinkOptions,
  NatsNotConnectedError,
  type OnConnectHook,
} from "./nats-link";
export { type AppendToOutboxOptions, appendToOutbox } from "./outbox";
export { OutboxRelay, type OutboxRelayOptions, type OutboxRow, type ParkedRow } from "./relay";
export {
  type EnsureDurableConsumerOptions,
  type EnsureStreamOptions,
  ensureDurableConsumer,
  ensureStream,
} from "./stream";
export type {
  ConsumerSpec,
  ConsumerStart,
  EventLink,
  EventMessage,
  GiveUp,
  MessageFeed,
  OpenedConsumer,
} from "./transport";
