// Vitest global setup: a receiver for the IRIS sandbox's webhook deliveries. The Worker under test listens on no
// port, so a test points its sandbox instance at `<webhookCaptureUrl>/<box>/webhooks/iris/<secret>`, lets the
// sandbox post there, then takes what arrived (GET /<box> answers and empties the box) and replays each request
// into the app. Every delivery is answered 200 at once, so the sandbox records it delivered.
import http from "node:http";
import type { AddressInfo } from "node:net";
import type { TestProject } from "vitest/node";

declare module "vitest" {
  export interface ProvidedContext {
    webhookCaptureUrl: string;
  }
}

interface Captured {
  method: string;
  /** The path after the box, with its query. */
  path: string;
  contentType: string | null;
  body: string;
}

const MAX_BODY_BYTES = 16 << 20;

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const boxes = new Map<string, Captured[]>();
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://capture");
    const [, box = "", ...rest] = url.pathname.split("/");
    const reply = (status: number, body: unknown) => {
      res.writeHead(status, { "content-type": "application/json" });
      res.end(JSON.stringify(body));
    };
    if (box === "") return reply(404, { message: "no box" });
    if (req.method === "GET" && rest.length === 0) {
      const requests = boxes.get(box) ?? [];
      boxes.delete(box);
      return reply(200, { requests });
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) req.destroy();
      else chunks.push(chunk);
    });
    req.on("end", () => {
      const list = boxes.get(box) ?? [];
      list.push({
        method: req.method ?? "POST",
        path: `/${rest.join("/")}${url.search}`,
        contentType: req.headers["content-type"] ?? null,
        body: Buffer.concat(chunks).toString("utf8"),
      });
      boxes.set(box, list);
      reply(200, { captured: true });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  project.provide("webhookCaptureUrl", `http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  return () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
}
