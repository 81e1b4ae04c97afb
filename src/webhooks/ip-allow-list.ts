// Pure: IPv4 and IPv6 addresses and CIDR ranges as integers, and whether an address falls in an allow-list.
// Used on CF-Connecting-IP, which Cloudflare sets to the client's address (dotted IPv4 or IPv6 text).

export interface Cidr {
  version: 4 | 6;
  /** The network address with the host bits cleared. */
  network: bigint;
  prefix: number;
  /** As written in the configuration, for messages. */
  text: string;
}

export interface ParsedIp {
  version: 4 | 6;
  value: bigint;
}

const IPV4_BITS = 32;
const IPV6_BITS = 128;
// ::ffff:0:0/96 holds IPv4 addresses written as IPv6; they are matched as the IPv4 address they carry.
const IPV4_MAPPED_PREFIX = 0xffffn << 32n;

function parseIpv4(text: string): bigint | null {
  const parts = text.split(".");
  if (parts.length !== 4) return null;
  let value = 0n;
  for (const part of parts) {
    // No leading zeros: "010" is octal to some parsers and decimal to others, so it is refused.
    if (!/^(0|[1-9]\d{0,2})$/.test(part)) return null;
    const n = Number(part);
    if (n > 255) return null;
    value = (value << 8n) | BigInt(n);
  }
  return value;
}

function parseIpv6(text: string): bigint | null {
  if (text.includes("%")) return null; // zone ids name an interface, not an address on the internet
  let head = text;
  let tailV4: bigint | null = null;
  const lastColon = text.lastIndexOf(":");
  if (text.includes(".", lastColon)) {
    // An embedded IPv4 tail (::ffff:192.0.2.1) stands for the last two groups.
    tailV4 = parseIpv4(text.slice(lastColon + 1));
    if (tailV4 === null) return null;
    head = `${text.slice(0, lastColon + 1)}0:0`;
  }
  const halves = head.split("::");
  if (halves.length > 2) return null;
  const groupsOf = (part: string): string[] | null => (part === "" ? [] : part.split(":"));
  const left = groupsOf(halves[0]!);
  const right = halves.length === 2 ? groupsOf(halves[1]!) : [];
  if (left === null || right === null) return null;
  const missing = 8 - left.length - right.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return null;
  const groups = [...left, ...Array<string>(halves.length === 2 ? missing : 0).fill("0"), ...right];
  let value = 0n;
  for (const group of groups) {
    if (!/^[0-9a-fA-F]{1,4}$/.test(group)) return null;
    value = (value << 16n) | BigInt(parseInt(group, 16));
  }
  if (tailV4 !== null) value = (value & ~0xffffffffn) | tailV4;
  return value;
}

/** An IPv4 or IPv6 address, or null when the text is not one. */
export function parseIp(text: string): ParsedIp | null {
  const trimmed = text.trim();
  if (trimmed === "") return null;
  if (trimmed.includes(":")) {
    const value = parseIpv6(trimmed.replace(/^\[(.*)\]$/, "$1"));
    return value === null ? null : { version: 6, value };
  }
  const value = parseIpv4(trimmed);
  return value === null ? null : { version: 4, value };
}

function mask(bits: number, prefix: number): bigint {
  const all = (1n << BigInt(bits)) - 1n;
  return prefix === 0 ? 0n : (all >> BigInt(bits - prefix)) << BigInt(bits - prefix);
}

/** "192.0.2.0/24", "2001:db8::/32", or a bare address (a range of one). Null when malformed. */
export function parseCidr(text: string): Cidr | null {
  const trimmed = text.trim();
  const slash = trimmed.indexOf("/");
  const address = parseIp(slash === -1 ? trimmed : trimmed.slice(0, slash));
  if (!address) return null;
  const bits = address.version === 4 ? IPV4_BITS : IPV6_BITS;
  let prefix = bits;
  if (slash !== -1) {
    const prefixText = trimmed.slice(slash + 1);
    if (!/^(0|[1-9]\d{0,2})$/.test(prefixText)) return null;
    prefix = Number(prefixText);
    if (prefix > bits) return null;
  }
  return { version: address.version, network: address.value & mask(bits, prefix), prefix, text: trimmed };
}

/** Parses a configured list; malformed entries are returned apart so the caller can refuse the configuration. */
export function parseAllowList(entries: readonly string[]): { cidrs: Cidr[]; invalid: string[] } {
  const cidrs: Cidr[] = [];
  const invalid: string[] = [];
  for (const entry of entries) {
    const cidr = parseCidr(entry);
    if (cidr) cidrs.push(cidr);
    else invalid.push(entry);
  }
  return { cidrs, invalid };
}

/** Whether `ip` lies in one of `cidrs`. An IPv4-mapped IPv6 address also matches IPv4 ranges. */
export function ipAllowed(ip: string, cidrs: readonly Cidr[]): boolean {
  const address = parseIp(ip);
  if (!address) return false;
  const candidates: ParsedIp[] = [address];
  if (address.version === 6 && address.value >> 32n === IPV4_MAPPED_PREFIX >> 32n) {
    candidates.push({ version: 4, value: address.value & 0xffffffffn });
  }
  return cidrs.some((cidr) =>
    candidates.some(
      (candidate) =>
        candidate.version === cidr.version &&
        (candidate.value & mask(cidr.version === 4 ? IPV4_BITS : IPV6_BITS, cidr.prefix)) === cidr.network,
    ),
  );
}
