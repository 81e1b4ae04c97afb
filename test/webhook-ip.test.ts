import { describe, expect, it } from "vitest";
import { ipAllowed, parseAllowList, parseCidr, parseIp } from "../src/webhooks/ip-allow-list.ts";

const list = (...entries: string[]) => {
  const { cidrs, invalid } = parseAllowList(entries);
  expect(invalid).toEqual([]);
  return cidrs;
};

describe("parsing addresses", () => {
  it.each([
    ["192.0.2.1", 4, 0xc0000201n],
    ["0.0.0.0", 4, 0n],
    ["255.255.255.255", 4, 0xffffffffn],
    ["::", 6, 0n],
    ["::1", 6, 1n],
    ["2001:db8::1", 6, 0x20010db8000000000000000000000001n],
    ["2001:DB8:0:0:0:0:0:1", 6, 0x20010db8000000000000000000000001n],
    ["fe80::", 6, 0xfe800000000000000000000000000000n],
    ["::ffff:192.0.2.1", 6, 0xffffc0000201n],
    ["[2001:db8::1]", 6, 0x20010db8000000000000000000000001n],
    ["1:2:3:4:5:6:7:8", 6, 0x00010002000300040005000600070008n],
  ])("reads %s", (text, version, value) => {
    expect(parseIp(text)).toEqual({ version, value });
  });

  it.each(["", "1.2.3", "1.2.3.4.5", "256.1.1.1", "01.2.3.4", "1.2.3.-4", "a.b.c.d", "1::2::3", "1:2:3:4:5:6:7:8:9", "12345::", "fe80::1%eth0", "::ffff:1.2.3.256", "1:2:3:4:5:6:7::8:9", "not an ip"])(
    "refuses %j",
    (text) => {
      expect(parseIp(text)).toBeNull();
    },
  );
});

describe("parsing CIDR ranges", () => {
  it("clears the host bits and treats a bare address as a range of one", () => {
    expect(parseCidr("192.0.2.77/24")).toMatchObject({ version: 4, network: 0xc0000200n, prefix: 24 });
    expect(parseCidr("192.0.2.77")).toMatchObject({ version: 4, network: 0xc000024dn, prefix: 32 });
    expect(parseCidr("2001:db8:abcd::/32")).toMatchObject({ version: 6, network: 0x20010db8000000000000000000000000n, prefix: 32 });
    expect(parseCidr("::/0")).toMatchObject({ version: 6, network: 0n, prefix: 0 });
  });

  it.each(["192.0.2.0/33", "2001:db8::/129", "192.0.2.0/", "192.0.2.0/-1", "192.0.2.0/08", "/24", "nonsense/8"])("refuses %j", (text) => {
    expect(parseCidr(text)).toBeNull();
  });

  it("keeps malformed entries apart so the configuration can be refused", () => {
    const { cidrs, invalid } = parseAllowList(["10.0.0.0/8", "10.0.0.0/40", " 2001:db8::/32 "]);
    expect(cidrs.map((c) => c.text)).toEqual(["10.0.0.0/8", "2001:db8::/32"]);
    expect(invalid).toEqual(["10.0.0.0/40"]);
  });
});

describe("matching an address against the allow-list", () => {
  const allowed = list("203.0.113.0/24", "198.51.100.7", "2001:db8::/32", "2a06:98c0::/29");

  it.each([
    ["203.0.113.0", true],
    ["203.0.113.255", true],
    ["203.0.114.0", false],
    ["203.0.112.255", false],
    ["198.51.100.7", true],
    ["198.51.100.8", false],
    ["2001:db8::1", true],
    ["2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", true],
    ["2001:db9::", false],
    ["2a06:98c7:1::", true],
    ["2a06:98c8::", false],
    // An IPv4 client seen through an IPv6 socket is still that IPv4 address.
    ["::ffff:203.0.113.9", true],
    ["::ffff:203.0.114.9", false],
    ["", false],
    ["garbage", false],
  ])("%j → %s", (ip, expected) => {
    expect(ipAllowed(ip, allowed)).toBe(expected);
  });

  it("never matches an IPv4 address against an IPv6 range or the other way round", () => {
    expect(ipAllowed("0.0.0.1", list("::/96"))).toBe(false);
    expect(ipAllowed("::1", list("0.0.0.0/0"))).toBe(false);
    expect(ipAllowed("::1", list("::/0"))).toBe(true);
    expect(ipAllowed("10.1.2.3", list("0.0.0.0/0"))).toBe(true);
  });

  it("allows nothing with an empty list", () => {
    expect(ipAllowed("203.0.113.1", [])).toBe(false);
  });
});
