import { env } from "cloudflare:workers";

export interface SandboxInstance {
  /** IRIS base URL of this instance, ending in /api/v1. */
  baseUrl: string;
  controlUrl: string;
  apiKey: string;
  /** Env for the Worker pointing at this instance (and, optionally, more overrides). */
  env(overrides?: Record<string, string>): Env;
  control<T = unknown>(method: string, path: string, body?: unknown): Promise<T>;
  setFaults(faults: unknown): Promise<void>;
  /** Requests the instance has seen, by path, status and X-Invocation-Id. */
  stats(): Promise<SandboxStats>;
}

export interface SandboxStats {
  total: number;
  byInvocation: Record<string, number>;
  [key: string]: unknown;
}

/** A fresh, isolated IRIS sandbox instance, so test files running in parallel never share data or faults. */
export async function createSandboxInstance(options: Record<string, unknown> = {}): Promise<SandboxInstance> {
  const root = env.TEST_SANDBOX_URL;
  if (!root) throw new Error("TEST_SANDBOX_URL is not bound: the sandbox global setup did not run");
  const res = await fetch(`${root}/_control/instances`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ size: "tiny", ...options }),
  });
  if (!res.ok) throw new Error(`creating a sandbox instance failed: ${res.status} ${await res.text()}`);
  const created = await res.json<{ baseUrl: string; controlUrl: string; apiKey: string }>();
  const control = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
    const init: RequestInit = { method };
    if (body !== undefined) {
      init.body = JSON.stringify(body);
      init.headers = { "Content-Type": "application/json" };
    }
    const answer = await fetch(`${created.controlUrl}${path}`, init);
    if (!answer.ok) throw new Error(`sandbox control ${method} ${path} failed: ${answer.status} ${await answer.text()}`);
    return (await answer.json()) as T;
  };
  return {
    ...created,
    env: (overrides = {}) => ({ ...env, IRIS_BASE_URL: created.baseUrl, IRIS_API_KEY: created.apiKey, ...overrides }) as Env,
    control,
    setFaults: async (faults) => {
      await control("PUT", "/faults", faults);
    },
    stats: () => control<SandboxStats>("GET", "/stats"),
  };
}
