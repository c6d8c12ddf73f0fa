// The one test world of the repository: the run's database and NATS, both services built as in
// production, a real SMTP server, and named actors (platform owner, bank admin, organization admin,
// enrolled user) made one way, through the services' own APIs and commands.
export * from "./api";
export * from "./dashboard";
export * from "./delivery-world";
export * from "./device";
export * from "./factories";
export * from "./fingerprint";
export * from "./foundation-suite";
export * from "./infrastructure";
export * from "./latency";
export * from "./messages-gateway";
export * from "./sdk-world";
export * from "./smtp";
export * from "./sync-world";
export * from "./totp";
