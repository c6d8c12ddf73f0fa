export * from "./factories";
export * from "./foundation-suite";
export * from "./harness";
