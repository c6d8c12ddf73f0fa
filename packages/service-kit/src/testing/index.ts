export * from "./foundation-suite";
export * from "./harness";
