// WebSocket-to-TCP proxy so that @neondatabase/serverless in WebSocket mode (what the Worker uses against Neon)
// can reach a plain local Postgres. The driver opens `ws://<wsProxy>?address=<host>:<port>` and then speaks the
// ordinary Postgres wire protocol in binary frames; this side copies bytes both ways.
import http from "node:http";
import net from "node:net";
import type { Duplex } from "node:stream";
import { WebSocketServer, type RawData, type WebSocket } from "ws";
import { isPortFree } from "./postgres.ts";

export interface WsProxyOptions {
  /** Preferred port; when it is taken (or omitted) a free one is picked. */
  port?: number;
  log?: (line: string) => void;
  /**
   * Which targets may be reached. Loopback only by default: the proxy takes its destination from the client,
   * so anything wider would make it an open relay for whoever can reach it.
   */
  allowHost?: (host: string) => boolean;
}

export interface RunningWsProxy {
  port: number;
  /** Value for neonConfig.wsProxy / NEON_WS_PROXY: host:port/path, no scheme. */
  wsProxy: string;
  close(): Promise<void>;
}

// Above this many bytes queued towards the WebSocket, stop reading from Postgres until the queue drains.
const HIGH_WATER_MARK = 1 << 20;

export async function startWsProxy(options: WsProxyOptions = {}): Promise<RunningWsProxy> {
  const log = options.log ?? (() => {});
  const allowHost = options.allowHost ?? isLoopback;
  const bridges = new Set<{ ws: WebSocket; tcp: net.Socket }>();

  const server = http.createServer((_req, res) => {
    res.writeHead(426, { "content-type": "text/plain" }).end("WebSocket upgrade required\n");
  });
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false });

  server.on("upgrade", (req, socket: Duplex, head) => {
    const url = new URL(req.url ?? "/", "http://proxy");
    const target = parseAddress(url.searchParams.get("address"));
    if (!target) return refuse(socket, 400, "expected ?address=host:port");
    if (!allowHost(target.host)) return refuse(socket, 403, `target ${target.host} is not allowed`);
    wss.handleUpgrade(req, socket, head, (ws) => bridge(ws, target));
  });

  function bridge(ws: WebSocket, target: { host: string; port: number }): void {
    const tcp = net.connect({ host: target.host, port: target.port });
    tcp.setNoDelay(true);
    const pair = { ws, tcp };
    bridges.add(pair);

    // Writes made before the TCP connection is up are buffered by the socket itself.
    ws.on("message", (data: RawData) => {
      if (!tcp.write(toBuffer(data))) {
        ws.pause();
        tcp.once("drain", () => ws.resume());
      }
    });
    tcp.on("data", (chunk: Buffer) => {
      ws.send(chunk, { binary: true }, () => {
        if (tcp.isPaused() && ws.bufferedAmount < HIGH_WATER_MARK / 2) tcp.resume();
      });
      if (ws.bufferedAmount > HIGH_WATER_MARK) tcp.pause();
    });

    // Whichever side ends first, end the other: a client that closes the WebSocket has normally sent
    // Terminate already, so a half-close lets Postgres read it; a server that hangs up closes the WebSocket.
    ws.on("close", () => {
      tcp.end();
      bridges.delete(pair);
    });
    ws.on("error", (error) => {
      log(`websocket error (${target.host}:${target.port}): ${error.message}`);
      tcp.destroy();
    });
    tcp.on("close", () => {
      if (ws.readyState === ws.OPEN || ws.readyState === ws.CONNECTING) ws.close(1000);
      bridges.delete(pair);
    });
    tcp.on("error", (error) => {
      log(`tcp error (${target.host}:${target.port}): ${error.message}`);
      if (ws.readyState === ws.OPEN) ws.close(1011, "database connection failed");
      else ws.terminate();
    });
  }

  const port = await listen(server, options.port, log);
  return {
    port,
    wsProxy: `127.0.0.1:${port}/v1`,
    close: async () => {
      for (const { ws, tcp } of bridges) {
        ws.terminate();
        tcp.destroy();
      }
      bridges.clear();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

async function listen(server: http.Server, wanted: number | undefined, log: (line: string) => void): Promise<number> {
  const port = wanted && (await isPortFree(wanted)) ? wanted : 0;
  if (wanted && port !== wanted) log(`port ${wanted} is in use; using a free one`);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
  return (server.address() as net.AddressInfo).port;
}

/** Parses `host:port` or `[v6]:port`. */
export function parseAddress(address: string | null): { host: string; port: number } | undefined {
  const match = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(address ?? "");
  if (!match) return undefined;
  const port = Number(match[3]);
  const host = match[1] ?? match[2];
  return host && port > 0 && port < 65536 ? { host, port } : undefined;
}

function isLoopback(host: string): boolean {
  return host === "localhost" || host === "::1" || /^127\.\d+\.\d+\.\d+$/.test(host);
}

function refuse(socket: Duplex, status: number, message: string): void {
  socket.end(`HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\n${message}\n`);
}

function toBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}
