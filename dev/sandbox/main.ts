// CLI: npx node dev/sandbox/main.ts --port 8790 --size small --seed 1 --faults chaos --webhook-url http://...

import { parseArgs } from "node:util";
import { startSandbox, type SandboxOptions } from "./index.ts";
import type { FaultProfileName } from "./faults.ts";
import type { SizeName } from "./sizes.ts";

const { values } = parseArgs({
  options: {
    port: { type: "string", default: "8790" },
    host: { type: "string", default: "127.0.0.1" },
    size: { type: "string", default: "small" },
    seed: { type: "string", default: "1" },
    faults: { type: "string", default: "none" },
    "api-key": { type: "string", default: "sandbox-key" },
    "rate-limit": { type: "string", default: "500" },
    "webhook-url": { type: "string" },
    "duplicate-rate": { type: "string" },
    now: { type: "string" },
    quiet: { type: "boolean", default: false },
    help: { type: "boolean", default: false },
  },
});

if (values.help) {
  console.log(`Usage: npx node dev/sandbox/main.ts [options]
  --port N            port (default 8790, 0 = any free port)
  --host H            interface (default 127.0.0.1)
  --size S            tiny | small | large (default small)
  --seed N            data and fault seed (default 1)
  --faults F          none | chaos | flaky | outage (default none)
  --api-key K         expected X-API-KEY (default sandbox-key)
  --rate-limit N      requests per minute (default 500)
  --webhook-url URL   where to deliver webhooks (default: none)
  --duplicate-rate R  share of webhook deliveries sent twice (default 0)
  --now ISO           pin "today" of the generated data
  --quiet             no request log`);
  process.exit(0);
}

const options: SandboxOptions = {
  port: Number(values.port),
  host: values.host,
  size: values.size as SizeName,
  seed: Number(values.seed),
  faults: values.faults as FaultProfileName,
  apiKey: values["api-key"],
  rateLimitPerMinute: Number(values["rate-limit"]),
  log: values.quiet ? undefined : (line) => console.log(line),
};
if (values["webhook-url"]) options.webhookUrl = values["webhook-url"];
if (values["duplicate-rate"]) options.webhookDuplicateRate = Number(values["duplicate-rate"]);
if (values.now) options.now = values.now;

const started = Date.now();
const sandbox = await startSandbox(options).catch((error: unknown) => {
  console.error(`sandbox: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
console.log(
  `IRIS sandbox listening on ${sandbox.url} (API ${sandbox.url}/api/v1, control ${sandbox.url}/_control, ` +
    `X-API-KEY ${sandbox.apiKey}, size ${values.size}, seed ${values.seed}, faults ${values.faults}) ` +
    `ready in ${Date.now() - started} ms`,
);

const stop = (): void => {
  void sandbox.close().then(() => process.exit(0));
};
process.on("SIGINT", stop);
process.on("SIGTERM", stop);
