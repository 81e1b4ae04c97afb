// The HTTP side: routes /api/v1 and /_control to the root instance and /i/<id>/... to created instances, and
// wraps the IRIS surface in faults, the rate limit and API-key auth (in that order, like a gateway in front of
// a Laravel app whose auth runs after throttling).

import { randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { handleControl } from "./control-api.ts";
import type { FaultDecision } from "./faults.ts";
import { Instance } from "./instance.ts";
import { handleIris, routeTemplate, type Reply } from "./iris-api.ts";
import { instanceSettings, rootSettings, type InstanceSettings, type SandboxOptions } from "./options.ts";

export interface Sandbox {
  url: string; // e.g. http://127.0.0.1:PORT (no /api/v1)
  port: number;
  apiKey: string;
  close(): Promise<void>;
}

const MAX_BODY_BYTES = 1 << 20;
const NGINX_PAGE = (status: number, text: string): string =>
  `<html>\r\n<head><title>${status} ${text}</title></head>\r\n<body>\r\n<center><h1>${status} ${text}</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n`;

export class SandboxServer {
  private readonly server: Server;
  private readonly options: SandboxOptions;
  private readonly rootDefaults: InstanceSettings;
  private readonly clock: () => number;
  private readonly log: (line: string) => void;
  private readonly instances = new Map<string, Instance>();
  private readonly hanging = new Set<ServerResponse>();
  private readonly sleepers = new Map<ReturnType<typeof setTimeout>, () => void>();
  private root: Instance | null = null;
  private baseUrl = "";
  private counter = 0;
  private closed = false;

  constructor(options: SandboxOptions) {
    this.options = options;
    this.rootDefaults = rootSettings(options);
    this.clock = options.clock ?? Date.now;
    this.log = options.log ?? (() => {});
    this.server = createServer((req, res) => {
      this.route(req, res).catch((error: unknown) => {
        this.log(`sandbox error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
        if (!res.headersSent) sendJson(res, 500, { message: "Server Error" }, {}, false);
        else res.destroy();
      });
    });
  }

  async listen(): Promise<Sandbox> {
    const host = this.options.host ?? "127.0.0.1";
    await new Promise<void>((resolve, reject) => {
      this.server.once("error", reject);
      this.server.listen(this.options.port ?? 0, host, () => {
        this.server.off("error", reject);
        resolve();
      });
    });
    const { port } = this.server.address() as AddressInfo;
    const publicHost = host === "0.0.0.0" || host === "::" ? "127.0.0.1" : host.includes(":") ? `[${host}]` : host;
    this.baseUrl = `http://${publicHost}:${port}`;
    this.root = this.createInstance("root", this.rootDefaults);
    this.root.publicBase = this.baseUrl;
    return { url: this.baseUrl, port, apiKey: this.root.apiKey, close: () => this.close() };
  }

  private createInstance(id: string, settings: InstanceSettings): Instance {
    return new Instance({
      id,
      seed: settings.seed,
      size: settings.size,
      sizeLabel: settings.sizeLabel,
      faults: settings.faults,
      apiKey: settings.apiKey,
      rateLimitPerMinute: settings.rateLimitPerMinute,
      rateLimitWindowMs: settings.rateLimitWindowMs,
      webhook: settings.webhook,
      // Real time even when a test injects a clock: the injected clock only measures elapsed time.
      nowMs: settings.nowMs ?? Date.now(),
      utcOffsetMinutes: settings.utcOffsetMinutes,
      clock: this.clock,
      log: this.log,
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.root?.close();
    for (const inst of this.instances.values()) inst.close();
    for (const [timer, wake] of this.sleepers) {
      clearTimeout(timer);
      wake();
    }
    this.sleepers.clear();
    // Hanging requests would otherwise keep their sockets, and the process, alive.
    for (const res of this.hanging) res.destroy();
    this.hanging.clear();
    const done = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeAllConnections();
    await done;
  }

  // ---------------------------------------------------------------- routing

  private async route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://sandbox.invalid");
    let path = url.pathname;
    let inst = this.root!;
    let prefix = "";
    const scoped = /^\/i\/([^/]+)(\/.*)?$/.exec(path);
    if (scoped) {
      const found = this.instances.get(scoped[1]!);
      if (!found) return sendJson(res, 404, { message: `unknown sandbox instance ${scoped[1]}` }, {}, false);
      inst = found;
      prefix = `/i/${scoped[1]}`;
      path = scoped[2] ?? "/";
    }
    if (path === "/_control" || path.startsWith("/_control/")) {
      return this.control(req, res, inst, path.slice("/_control".length) || "/", url);
    }
    if (path === "/api/v1" || path.startsWith("/api/v1/")) {
      const origin = `http://${req.headers.host ?? this.baseUrl.replace(/^http:\/\//, "")}`;
      return this.iris(req, res, inst, path.slice("/api/v1".length) || "/", url, `${origin}${prefix}/api/v1`);
    }
    return sendJson(res, 404, { message: "Not found. The IRIS API is under /api/v1, the sandbox control API under /_control." }, {}, false);
  }

  private async control(req: IncomingMessage, res: ServerResponse, inst: Instance, path: string, url: URL): Promise<void> {
    if (!isLoopback(req.socket.remoteAddress)) return sendJson(res, 403, { message: "the control API answers loopback clients only" }, {}, false);
    const method = req.method ?? "GET";
    const readBody = (): Promise<unknown> => readJsonBody(req);
    if (inst === this.root && path.replace(/\/+$/, "") === "/instances") {
      if (method === "GET") return sendJson(res, 200, { instances: [...this.instances.values()].map((i) => i.info()) }, {}, false);
      if (method === "POST") {
        let body: unknown;
        try {
          body = await readBody();
          if (typeof body !== "object" || body === null || Array.isArray(body)) throw new Error("expected a JSON object");
          const settings = instanceSettings(body as Record<string, unknown>, this.rootDefaults);
          const id = `${++this.counter}-${randomBytes(3).toString("hex")}`;
          const created = this.createInstance(id, settings);
          created.publicBase = `${this.baseUrl}/i/${id}`;
          this.instances.set(id, created);
          return sendJson(
            res,
            201,
            { id, baseUrl: `${created.publicBase}/api/v1`, controlUrl: `${created.publicBase}/_control`, apiKey: created.apiKey },
            {},
            false,
          );
        } catch (error) {
          return sendJson(res, 400, { message: error instanceof Error ? error.message : String(error) }, {}, false);
        }
      }
    }
    if (inst !== this.root && method === "DELETE" && (path === "/" || path === "")) {
      inst.close();
      this.instances.delete(inst.id);
      return sendJson(res, 200, { deleted: inst.id }, {}, false);
    }
    const reply = await handleControl(inst, method, path, url.searchParams, readBody);
    if ("stream" in reply) {
      res.writeHead(reply.status, { "content-type": "application/json" });
      for (const chunk of reply.stream) {
        if (!res.write(chunk)) await new Promise((resolve) => res.once("drain", resolve));
        if (res.destroyed) return;
      }
      res.end();
      return;
    }
    sendJson(res, reply.status, reply.body, {}, false);
  }

  // ---------------------------------------------------------------- the IRIS surface

  private async iris(req: IncomingMessage, res: ServerResponse, inst: Instance, path: string, url: URL, apiBase: string): Promise<void> {
    const started = Date.now();
    const method = req.method ?? "GET";
    const head = method === "HEAD";
    const invocation = headerValue(req, "x-invocation-id");
    const apiKey = headerValue(req, "x-api-key");
    inst.stats.request(routeTemplate(method, path), invocation);
    let left = false;
    res.on("close", () => {
      left = !res.writableFinished;
    });
    const decision = inst.faults.next();
    inst.stats.fault(decision.kind);
    const logLine = (outcome: string): void =>
      this.log(`${inst.id} ${method} ${url.pathname}${url.search} -> ${outcome}${decision.kind !== "none" ? ` [${decision.kind}]` : ""} ${Date.now() - started}ms${invocation ? ` inv=${invocation}` : ""}`);

    if (decision.latencyMs > 0) await this.sleep(decision.latencyMs);
    if (this.closed) return;
    if (left) {
      inst.stats.outcome("aborted");
      return logLine("aborted by client");
    }

    const limitKey = apiKey ?? "(none)";
    const rateHeaders = (remaining: number): Record<string, string> => ({
      "X-RateLimit-Limit": String(inst.limiter.limit),
      "X-RateLimit-Remaining": String(remaining),
    });
    const finish = (status: number, body: string, headers: Record<string, string>, contentType = "application/json"): void => {
      inst.stats.outcome(status);
      res.writeHead(status, { "content-type": contentType, "cache-control": "no-cache, private", ...headers });
      res.end(head ? undefined : body);
      logLine(String(status));
    };

    const fault = this.injectedFault(decision);
    if (fault === "hang") {
      inst.stats.outcome("hung");
      this.hanging.add(res);
      res.on("close", () => this.hanging.delete(res));
      return logLine("hanging");
    }
    if (fault === "drop") {
      inst.stats.outcome("dropped");
      req.socket.destroy();
      return logLine("dropped");
    }
    if (fault) {
      const peek = inst.limiter.peek(limitKey);
      return finish(fault.status, fault.body, { ...rateHeaders(peek.remaining), ...fault.headers }, fault.contentType);
    }

    const limit = inst.limiter.hit(limitKey);
    if (!limit.allowed) {
      return finish(429, JSON.stringify({ message: "Too Many Attempts." }), {
        ...rateHeaders(0),
        "Retry-After": String(limit.retryAfterSeconds),
        "X-RateLimit-Reset": String(Math.ceil(Date.now() / 1000) + (limit.retryAfterSeconds ?? 0)),
      });
    }
    const headers = rateHeaders(limit.remaining);
    if (apiKey !== inst.apiKey) return finish(401, JSON.stringify({ message: "Unauthenticated." }), headers);

    let reply: Reply;
    try {
      reply = handleIris(inst.dataset, { method: head ? "GET" : method, path, query: url.searchParams, apiBase });
    } catch (error) {
      this.log(`sandbox handler error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
      reply = { status: 500, body: { message: "Server Error" } };
    }
    let body = JSON.stringify(reply.body);
    if (decision.kind === "malformed" && reply.status === 200) {
      // Cut inside the document so the result is never valid JSON.
      body = body.slice(0, Math.max(1, Math.min(body.length - 1, Math.floor(body.length * (decision.cut ?? 0.5)))));
    }
    finish(reply.status, body, { ...headers, ...reply.headers });
  }

  private injectedFault(
    d: FaultDecision,
  ): "hang" | "drop" | { status: number; body: string; headers: Record<string, string>; contentType: string } | null {
    switch (d.kind) {
      case "hang":
        return "hang";
      case "drop":
        return "drop";
      case "outage":
        return { status: 503, body: JSON.stringify({ message: "Service Unavailable" }), headers: {}, contentType: "application/json" };
      case "burst":
        return {
          status: 429,
          body: JSON.stringify({ message: "Too Many Attempts." }),
          headers: { "Retry-After": String(d.retryAfterSeconds ?? 1) },
          contentType: "application/json",
        };
      case "error":
        // The app answers 500 in JSON; the proxy in front of it answers 502/504 in HTML, as nginx does.
        if (d.status === 502) return { status: 502, body: NGINX_PAGE(502, "Bad Gateway"), headers: {}, contentType: "text/html" };
        if (d.status === 504) return { status: 504, body: NGINX_PAGE(504, "Gateway Time-out"), headers: {}, contentType: "text/html" };
        if (d.status === 503) return { status: 503, body: JSON.stringify({ message: "Service Unavailable" }), headers: {}, contentType: "application/json" };
        return { status: 500, body: JSON.stringify({ message: "Server Error" }), headers: {}, contentType: "application/json" };
      default:
        return null;
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.sleepers.delete(timer);
        resolve();
      }, ms);
      this.sleepers.set(timer, resolve);
    });
  }
}

export async function startSandbox(options: SandboxOptions = {}): Promise<Sandbox> {
  return new SandboxServer(options).listen();
}

function headerValue(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function isLoopback(address: string | undefined): boolean {
  if (!address) return false;
  return address === "::1" || address.startsWith("127.") || address.startsWith("::ffff:127.");
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string>, head: boolean): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", ...headers });
  res.end(head ? undefined : text);
}

async function readJsonBody(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new Error("request body too large");
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString("utf8").trim();
  if (text === "") return {};
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new Error("request body is not valid JSON");
  }
}
