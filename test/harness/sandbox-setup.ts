// Vitest global setup: one IRIS sandbox process per test run. Test files never share its data: each asks the
// control API for its own instance (test/support/sandbox.ts). SANDBOX_LOG=1 prints every request it serves.
import type { TestProject } from "vitest/node";
import { startSandbox } from "../../dev/sandbox/index.ts";

declare module "vitest" {
  export interface ProvidedContext {
    sandboxUrl: string;
    sandboxApiKey: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const verbose = Boolean(process.env.SANDBOX_LOG);
  const sandbox = await startSandbox({
    size: "tiny",
    ...(verbose ? { log: (line: string) => console.log(`[sandbox] ${line}`) } : {}),
  });
  project.provide("sandboxUrl", sandbox.url);
  project.provide("sandboxApiKey", sandbox.apiKey);
  return () => sandbox.close();
}
