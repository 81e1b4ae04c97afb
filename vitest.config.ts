import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";

// Local servers (Postgres behind the WebSocket proxy, the IRIS sandbox) are started once per run by the global
// setup files and reach the Worker through bindings built from the values they provide().
const globalSetup: string[] = ["./test/harness/postgres-setup.ts", "./test/harness/sandbox-setup.ts", "./test/harness/webhook-capture-setup.ts"];

export default defineConfig({
  test: {
    globalSetup,
    // The Worker logs a JSON line per request and per retry; show them only for tests that fail.
    silent: "passed-only",
    // Vitest's default on 2 cores is 1 worker, but these tests mostly wait on Postgres, the sandbox and workerd;
    // a few files at once finish much sooner.
    maxWorkers: 3,
    projects: [
      {
        plugins: [
          cloudflareTest(({ inject }) => ({
            wrangler: { configPath: "./wrangler.toml" },
            miniflare: {
              bindings: {
                ...testBindings(inject),
              },
            },
          })),
        ],
        test: {
          name: "worker",
          // The first request of a file loads the whole Worker into workerd (a few seconds on a busy machine).
          testTimeout: 30_000,
          include: ["test/**/*.test.ts"],
          exclude: ["test/sandbox/**", "test/harness/**", "test/e2e/**"],
        },
      },
      {
        test: {
          name: "node",
          environment: "node",
          include: ["test/sandbox/**/*.test.ts", "test/e2e/**/*.test.ts"],
        },
      },
    ],
  },
});

function testBindings(inject: (key: string) => unknown): Record<string, string> {
  const value = (key: string): string | undefined => {
    try {
      const v = inject(key);
      return typeof v === "string" ? v : undefined;
    } catch {
      return undefined;
    }
  };
  const bindings: Record<string, string> = {
    IRIS_API_KEY: "test-iris-key",
    ADMIN_API_TOKEN: "test-admin-token",
    PORTAL_API_TOKEN: "test-portal-token",
    IRIS_WEBHOOK_SECRET: "test-webhook-secret",
  };
  const proxy = value("pgProxy");
  if (proxy) bindings.NEON_WS_PROXY = proxy;
  const databaseUrl = value("databaseUrl");
  if (databaseUrl) bindings.DATABASE_URL = databaseUrl;
  const databaseHarness = value("databaseHarnessUrl");
  if (databaseHarness) bindings.TEST_DATABASE_HARNESS_URL = databaseHarness;
  const sandbox = value("sandboxUrl");
  if (sandbox) {
    bindings.IRIS_BASE_URL = `${sandbox}/api/v1`;
    bindings.TEST_SANDBOX_URL = sandbox;
  }
  const sandboxKey = value("sandboxApiKey");
  if (sandboxKey) bindings.IRIS_API_KEY = sandboxKey;
  return bindings;
}
