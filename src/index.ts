import { createApp } from "./app.ts";

export { CircuitBreaker } from "./breaker/circuit-breaker.ts";

const app = createApp();

export default {
  fetch: app.fetch,
} satisfies ExportedHandler<Env>;
