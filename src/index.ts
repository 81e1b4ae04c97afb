import { createApp } from "./app.ts";
import { handleSyncBatch } from "./sync/consumer.ts";
import type { SyncMessage } from "./sync/streams.ts";
import { handleScheduled } from "./sync/triggers.ts";

export { CircuitBreaker } from "./breaker/circuit-breaker.ts";
export type { SyncMessage } from "./sync/streams.ts";

const app = createApp();

export default {
  fetch: app.fetch,
  async scheduled(controller, env, ctx) {
    await handleScheduled(controller, env, ctx);
  },
  async queue(batch, env, ctx) {
    await handleSyncBatch(batch, env, ctx);
  },
} satisfies ExportedHandler<Env, SyncMessage>;
