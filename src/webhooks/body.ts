// Reading a request body no larger than a limit. Content-Length is checked first (a declared oversize body is
// refused unread), then the bytes actually read, because the header may be absent (chunked) or lie.

export type LimitedBody = { ok: true; bytes: Uint8Array } | { ok: false; reason: "too-large"; bytesSeen: number };

export async function readLimitedBody(request: Request, maxBytes: number): Promise<LimitedBody> {
  const declared = request.headers.get("Content-Length");
  if (declared !== null && /^\d+$/.test(declared.trim()) && Number(declared.trim()) > maxBytes) {
    await request.body?.cancel().catch(() => undefined);
    return { ok: false, reason: "too-large", bytesSeen: 0 };
  }
  if (!request.body) return { ok: true, bytes: new Uint8Array() };
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel().catch(() => undefined);
      return { ok: false, reason: "too-large", bytesSeen: total };
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return { ok: true, bytes };
}

/** Deeper than any IRIS payload; deep enough nesting would overflow the stack of recursive walks and stringify. */
export const MAX_JSON_DEPTH = 64;

/**
 * What makes parsed JSON unfit to store, or null: nesting deeper than `maxDepth`, or a NUL character in a key or
 * a string (Postgres refuses it in text and jsonb). Walks iteratively, so hostile nesting cannot overflow it.
 */
export function unstorableJson(value: unknown, maxDepth = MAX_JSON_DEPTH): string | null {
  const stack: Array<{ value: unknown; depth: number }> = [{ value, depth: 0 }];
  while (stack.length > 0) {
    const { value: current, depth } = stack.pop()!;
    if (typeof current === "string") {
      if (current.includes("\u0000")) return "contains a NUL character";
      continue;
    }
    if (current === null || typeof current !== "object") continue;
    if (depth >= maxDepth) return `nested deeper than ${maxDepth} levels`;
    if (Array.isArray(current)) {
      for (const item of current) stack.push({ value: item, depth: depth + 1 });
    } else {
      for (const [key, item] of Object.entries(current)) {
        if (key.includes("\u0000")) return "contains a NUL character";
        stack.push({ value: item, depth: depth + 1 });
      }
    }
  }
  return null;
}
