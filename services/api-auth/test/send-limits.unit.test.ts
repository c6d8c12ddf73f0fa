// How a person's address is counted by the per-address send cap.

import { describe, expect, it } from "vitest";
import { addressKey } from "../src/domain/end-users/send-limits";

describe("addressKey", () => {
  it("counts an IPv4 address as itself, also when written IPv4-mapped", () => {
    expect(addressKey("203.0.113.7")).toBe("203.0.113.7");
    expect(addressKey("::ffff:203.0.113.7")).toBe("203.0.113.7");
  });

  it("counts an IPv6 address by its /64, however it is written", () => {
    expect(addressKey("2001:db8:a:b::1")).toBe("2001:db8:a:b::/64");
    expect(addressKey("2001:0DB8:000a:000b:ffff:1:2:3")).toBe("2001:db8:a:b::/64");
    expect(addressKey("2001:db8::1")).toBe("2001:db8:0:0::/64");
    expect(addressKey("::1")).toBe("0:0:0:0::/64");
  });

  it("is null for what is not an address", () => {
    for (const value of ["", "not-an-address", "203.0.113", "2001:db8:::1", "1.2.3.4/24"]) {
      expect(addressKey(value), value).toBeNull();
    }
  });
});
