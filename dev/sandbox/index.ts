// A local imitation of IRIS CRM's REST API (openapi 1.23.0) for the sync's tests, the local stack and the
// benchmarks. See README.md beside this file.

export { startSandbox, type Sandbox } from "./server.ts";
export type { SandboxOptions } from "./options.ts";
export type { SizeKnobs, SizeName } from "./sizes.ts";
export { SIZE_PRESETS } from "./sizes.ts";
export type { FaultProfileName, FaultSettings } from "./faults.ts";
export { FAULT_PROFILES } from "./faults.ts";
export type { StatsSnapshot } from "./stats.ts";
export type { DeliveryRecord, WebhookPayload } from "./webhooks.ts";
