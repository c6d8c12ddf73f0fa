import { describe, expect, it } from "vitest";
import {
  assertValidEvent,
  type DomainEvent,
  EVENT_TYPES,
  organizationSubjects,
  PoisonMessageError,
  parseEvent,
  subjectFor,
} from "../src/index";
import { credentialRotated, orgDeleted, orgUpdated, otpDeliveryRequested } from "./helpers";

const tokenRevoked: DomainEvent = {
  type: "token.revoked",
  data: {
    organizationId: "org_A1",
    jti: "jti-1",
    expiresAt: "2026-12-02T10:00:00.000Z",
    occurredAt: "2026-12-02T09:00:00.000Z",
  },
};
const accessChanged: DomainEvent = {
  type: "access.changed",
  data: { tenantId: "bnk_B1", userId: "usr_U1", occurredAt: "2026-12-02T09:00:00.000Z" },
};

describe("event contracts", () => {
  it("names the subject <prefix>.<family>.<id>.<short type>", () => {
    expect(subjectFor(orgUpdated("org_A1"))).toBe("ipaas.organization.org_A1.updated");
    expect(subjectFor(credentialRotated("org_A1"), "test_x")).toBe("test_x.organization.org_A1.credential_rotated");
    expect(subjectFor(orgDeleted("org_A1"), "a.b")).toBe("a.b.organization.org_A1.deleted");
    expect(organizationSubjects("test_x")).toBe("test_x.organization.>");
    expect(subjectFor(otpDeliveryRequested("org_A1"))).toBe("ipaas.otp.org_A1.delivery_requested");
    expect(subjectFor(tokenRevoked)).toBe("ipaas.token.org_A1.revoked");
    // Access events are about any tenant (a bank, the platform), named by its id.
    expect(subjectFor(accessChanged)).toBe("ipaas.access.bnk_B1.changed");
    expect(() => subjectFor(orgUpdated("org.with.dots"))).toThrow(/subject token/);
    expect(() => subjectFor(orgUpdated("org_A1"), "bad prefix")).toThrow(/subject token/);
  });

  it("parses every valid event back to the same typed event", () => {
    for (const event of [
      orgUpdated(),
      credentialRotated(),
      orgDeleted(),
      otpDeliveryRequested(),
      tokenRevoked,
      accessChanged,
      { ...accessChanged, data: { ...accessChanged.data, userId: null } },
    ]) {
      const parsed = parseEvent(event.type, JSON.stringify(event.data));
      expect(parsed).toEqual(event);
      expect(parseEvent(event.type, new TextEncoder().encode(JSON.stringify(event.data)))).toEqual(event);
    }
    expect(EVENT_TYPES).toEqual([
      "organization.credential_rotated",
      "organization.updated",
      "organization.deleted",
      "otp.delivery_requested",
      "token.revoked",
      "access.changed",
    ]);
  });

  it("drops fields it does not know on the consuming side", () => {
    const event = orgDeleted();
    const parsed = parseEvent(event.type, JSON.stringify({ ...event.data, addedLater: 1 }));
    expect(parsed).toEqual(event);
  });

  it("throws PoisonMessageError for an unknown type, invalid JSON or a schema violation", () => {
    const event = orgUpdated();
    expect(() => parseEvent("organization.exploded", JSON.stringify(event.data))).toThrow(PoisonMessageError);
    expect(() => parseEvent("", JSON.stringify(event.data))).toThrow(PoisonMessageError);
    expect(() => parseEvent(event.type, "{not json")).toThrow(PoisonMessageError);
    expect(() => parseEvent(event.type, "null")).toThrow(PoisonMessageError);
    expect(() => parseEvent(event.type, JSON.stringify({ ...event.data, status: "GONE" }))).toThrow(/status|\/status/);
    expect(() => parseEvent(event.type, JSON.stringify({ ...event.data, version: 1.5 }))).toThrow(PoisonMessageError);
    expect(() => parseEvent(event.type, JSON.stringify({ ...event.data, occurredAt: "yesterday" }))).toThrow(
      PoisonMessageError,
    );
    const rotated = credentialRotated();
    expect(() =>
      parseEvent(rotated.type, JSON.stringify({ ...rotated.data, previousSecretValidUntil: undefined })),
    ).toThrow(PoisonMessageError);
  });

  it("refuses to produce an event with an extra field, such as a secret hash", () => {
    const event = credentialRotated();
    const smuggled = { ...event, data: { ...event.data, secretHash: "ab".repeat(32) } } as unknown as DomainEvent;
    expect(() => assertValidEvent(smuggled)).toThrow(/invalid organization.credential_rotated event/);
    expect(() => assertValidEvent(event)).not.toThrow();
  });
});
