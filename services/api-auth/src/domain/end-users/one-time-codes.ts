import type { Db, Tx } from "@ipaas/db";
import { newId, type OtpSettings, otpSettingsOf } from "@ipaas/domain";
import { appendToOutbox } from "@ipaas/events";
import { InvalidTokenError, type MasterKey, type TokenService } from "@ipaas/service-kit";
import { fail, invalidField } from "../../errors";
import {
  findEndUserByContact,
  findOrCreateEndUser,
  findOrCreateSubject,
  forgetSubject,
  replaceContact,
} from "../../repositories/end-users";
import { findOtpOrganization } from "../../repositories/organization-credentials";
import {
  type AttemptScope,
  countAttempt,
  findDeliveryState,
  insertChallenge,
  latestOpenChallenge,
  lockDestination,
  markConsumed,
} from "../../repositories/otp-challenges";
import { type SignInOutcome, signInWithCode } from "../../repositories/sign-ins";
import type { PartnerCaller } from "../access-tokens";
import type { Revocations } from "../revocations";
import { codeHash, codeMatches, contactHash, randomCode } from "./codes";
import { destinationFor } from "./destinations";
import { deviceKeyOf } from "./device-binding";
import { activeUser, type UserCaller } from "./profiles";
import { addressKey, takeSendAllowance } from "./send-limits";

/** Wrong guesses a code survives: the fifth wrong one burns it. */
const MAX_CODE_ATTEMPTS = 5;
/** The longest an organization may let its users' tokens live. */
export const USER_TOKEN_MAX_TTL_SECONDS = 86_400;
export const USER_TOKEN = { typ: "at+jwt", audience: "ipaas-user-api" } as const;
/** What a user token is verified as, wherever it arrives. */
export const USER_TOKEN_KIND = {
  typ: [USER_TOKEN.typ],
  audience: USER_TOKEN.audience,
  maxTtlSeconds: USER_TOKEN_MAX_TTL_SECONDS,
};

export interface SendInput {
  channel: string;
  destination: string;
}

export type VerifyInput = {
  code: string;
  /** The public key (JWK) of the person's device, to bind the token to (RFC 9449). */
  deviceKey?: unknown;
} & ({ requestId: string } | { channel: string; destination: string });

/** Where a send came from. */
export interface SendOrigin {
  /** The address that called (the organization's backend), kept with the challenge. */
  caller: string | null;
  /**
   * The person's own address when known (a backend may pass it as `endUserIp`; a device calls itself):
   * counted, as a keyed hash, against the per-address cap, and never stored.
   */
  person: string | null;
}

export interface Sent {
  requestId: string;
  channel: string;
  expiresIn: number;
  resendAfter: number;
}

export interface Verified {
  userId: string;
  token: string;
  /** `DPoP` for a token bound to the device's key, else `Bearer`: how the device presents it. */
  tokenType: "Bearer" | "DPoP";
  expiresIn: number;
  isNewUser: boolean;
}

export type TokenStatus = { active: false } | { active: true; userId: string; expiresAt: string };

const INVALID_CODE = () => fail("INVALID_CODE");

/**
 * One-time codes for an organization's end users. The organization learns a request id, then a pairwise
 * `userId` and a token; never anything about the person. Phone numbers and emails are kept encrypted and
 * found by keyed hashes; codes are kept as keyed hashes (and, until delivered, encrypted for the sender).
 */
export class OneTimeCodes {
  readonly #now: () => number;

  constructor(
    private readonly db: Db,
    private readonly masterKey: MasterKey,
    private readonly tokens: TokenService,
    private readonly revocations: Revocations,
    now: () => number = Date.now,
  ) {
    this.#now = now;
  }

  /**
   * Creates a code for a destination and queues it for delivery (the challenge and its outbox event in one
   * transaction; the relay publishes it to the delivery queue): the same answer whether or not the person
   * exists. Refused with 403 for a channel or country the organization has not enabled, 429 past a limit.
   * With `forPerson` (an end user's id) the code is for that person's new contact, usable only by them.
   */
  async send(caller: PartnerCaller, input: SendInput, origin: SendOrigin, forPerson?: string): Promise<Sent> {
    const settings = await this.#settings(caller);
    const destination = destinationFor(input.channel, input.destination, settings);
    const address = origin.person === null ? null : addressKey(origin.person);
    if (origin.person !== null && address === null) throw invalidField("endUserIp", "not an IP address");
    const destinationHash = contactHash(this.masterKey, destination.kind, destination.value);
    const id = newId("otp");
    const code = randomCode(settings.codeLength);
    // Who the person becomes if this code signs them in for the first time (see `signInWithCode`).
    const newEndUserId = forPerson ? null : newId("eu");
    const now = new Date(this.#now());
    const resendAfter = await this.db.$transaction(async (tx) => {
      await lockDestination(tx, caller.organizationId, destinationHash);
      const wait = await takeSendAllowance(
        tx,
        {
          organizationId: caller.organizationId,
          destinationHash,
          rangeHash: destination.range && this.masterKey.lookupHash(destination.range, "phone-range"),
          addressHash: address && this.masterKey.lookupHash(address, "person-address"),
          dailyBudget: settings.dailyBudget,
        },
        now,
      );
      await insertChallenge(tx, {
        id,
        tenantId: caller.organizationId,
        channel: destination.channel,
        destinationHash,
        destinationEncrypted: this.masterKey.encrypt(destination.value, `otp-destination:${id}`),
        codeHash: codeHash(this.masterKey, id, code),
        codeEncrypted: this.masterKey.encrypt(code, `otp-code:${id}`),
        maxAttempts: MAX_CODE_ATTEMPTS,
        expiresAt: new Date(now.getTime() + settings.ttlSeconds * 1000),
        ip: origin.caller,
        ...(forPerson
          ? { purpose: "CONTACT_CHANGE" as const, endUserId: forPerson }
          : {
              newEndUserId,
              newEndUserEncrypted: this.masterKey.encrypt(
                destination.value,
                `end-user-${destination.kind}:${newEndUserId}`,
              ),
            }),
      });
      await appendToOutbox(tx, {
        type: "otp.delivery_requested",
        data: { organizationId: caller.organizationId, requestId: id, occurredAt: now.toISOString() },
      });
      return wait;
    });
    return { requestId: id, channel: destination.channel, expiresIn: settings.ttlSeconds, resendAfter };
  }

  /**
   * Checks a code: once right, the challenge is used and the person signed in (created on their first
   * verification; a new pairwise `userId` on their first at this organization). A wrong, expired, used,
   * burned or unknown code is one and the same `INVALID_CODE`; the fifth wrong try burns the code.
   */
  async verify(caller: PartnerCaller, input: VerifyInput): Promise<Verified> {
    const settings = await this.#settings(caller);
    // Checked before the code is: a bad or missing key costs the person no try.
    const device = input.deviceKey === undefined ? null : deviceKeyOf(input.deviceKey);
    if (!device && settings.requireDeviceBinding) {
      throw fail(
        "DEVICE_KEY_REQUIRED",
        "this organization binds tokens to devices: send deviceKey, the device's public JWK",
      );
    }
    const requestId = "requestId" in input ? input.requestId : await this.#openRequestFor(caller, input, settings);
    if (!requestId) throw INVALID_CODE();
    const code = input.code.trim();
    const outcome = await signInWithCode(this.db, {
      requestId,
      tenantId: caller.organizationId,
      // A code that is not all digits is still a try; this hash matches no stored one.
      codeHash: /^\d+$/.test(code) ? codeHash(this.masterKey, requestId, code) : "-",
      newSubjectId: newId("sub"),
      now: new Date(this.#now()),
    });
    const signedIn = outcome.kind === "raced" ? await this.#finishRacedSignIn(caller, outcome) : outcome;
    // A wrong try is counted (committed) before it is answered.
    if (signedIn.kind !== "signed-in") throw INVALID_CODE();
    const issued = await this.tokens.sign(
      { org: caller.organizationId, ...(device ? { cnf: { jkt: device.thumbprint } } : {}) },
      {
        typ: USER_TOKEN.typ,
        audience: USER_TOKEN.audience,
        subject: signedIn.userId,
        ttlSeconds: settings.userTokenTtlSeconds,
        alg: caller.signingAlg ?? "EdDSA",
      },
    );
    return {
      userId: signedIn.userId,
      token: issued.token,
      tokenType: device ? "DPoP" : "Bearer",
      expiresIn: settings.userTokenTtlSeconds,
      isNewUser: signedIn.isNewUser,
    };
  }

  /** Whether a user token is active, for the organization whose user it names (any other is inactive). */
  async tokenStatus(caller: PartnerCaller, token: string): Promise<TokenStatus> {
    let claims: Record<string, unknown>;
    try {
      ({ claims } = await this.tokens.verify(token, USER_TOKEN_KIND));
    } catch (error) {
      if (error instanceof InvalidTokenError) return { active: false };
      throw error;
    }
    const user = await activeUser(this.db, this.revocations, claims);
    if (user?.organizationId !== caller.organizationId) return { active: false };
    return { active: true, userId: user.userId, expiresAt: user.expiresAt.toISOString() };
  }

  /** Where a request's delivery stands; never where it went. */
  async deliveryState(caller: PartnerCaller, requestId: string) {
    const state = await findDeliveryState(this.db, requestId, caller.organizationId);
    if (!state) throw fail("NOT_FOUND", "no such request");
    return {
      requestId: state.id,
      channel: state.channel.toLowerCase(),
      status: state.deliveryStatus.toLowerCase() as "queued" | "sent" | "failed",
      createdAt: state.createdAt.toISOString(),
      sentAt: state.sentAt?.toISOString() ?? null,
      expiresAt: state.expiresAt.toISOString(),
    };
  }

  /** The organization forgets one of its users; the person goes when no organization knows them. */
  async forget(caller: PartnerCaller, userId: string): Promise<void> {
    const forgotten = await this.db.$transaction((tx) => forgetSubject(tx, userId, caller.organizationId));
    if (!forgotten) throw fail("NOT_FOUND", "no such user");
  }

  /**
   * Sends a code to a person's new phone number or email address: the first half of a contact change,
   * which needs a user token issued in the last ten minutes.
   */
  async beginContactChange(caller: UserCaller, input: SendInput, ip: string): Promise<Sent> {
    assertRecentSignIn(caller, this.#now());
    // The device calls from the person's own address: it counts, and is not kept.
    const origin = { caller: null, person: ip };
    return this.send({ organizationId: caller.organizationId }, input, origin, caller.endUserId);
  }

  /**
   * The second half: with the code sent to the new contact, it replaces the old one (for every
   * organization: the profile is the person's), and the old contact, if any, is told. A contact that is
   * another person's is refused with 409 and changes nothing.
   */
  async confirmContactChange(caller: UserCaller, input: { requestId: string; code: string }): Promise<void> {
    assertRecentSignIn(caller, this.#now());
    const { endUserId } = caller;
    const now = new Date(this.#now());
    const scope = { purpose: "CONTACT_CHANGE" as const, endUserId };
    const outcome = await this.db.$transaction(async (tx) => {
      const challenge = await this.#consume(tx, caller, input.requestId, input.code, scope, now);
      if (challenge === null || challenge === "wrong") return challenge;
      const kind = challenge.channel === "EMAIL" ? "email" : "phone";
      const owner = await findEndUserByContact(tx, { kind, hash: challenge.destinationHash });
      if (owner && owner.id !== endUserId)
        throw fail(
          "CONFLICT",
          `this ${kind === "email" ? "email address" : "phone number"} belongs to another account`,
        );
      const value = this.masterKey.decrypt(challenge.destinationEncrypted, `otp-destination:${input.requestId}`);
      const previous = await replaceContact(tx, endUserId, kind, {
        hash: challenge.destinationHash,
        encrypted: this.masterKey.encrypt(value, `end-user-${kind}:${endUserId}`),
      });
      if (previous) {
        const noticeId = newId("otp");
        const old = this.masterKey.decrypt(previous, `end-user-${kind}:${endUserId}`);
        await insertChallenge(tx, {
          id: noticeId,
          tenantId: caller.organizationId,
          channel: kind === "email" ? "email" : "sms",
          destinationHash: contactHash(this.masterKey, kind, old),
          destinationEncrypted: this.masterKey.encrypt(old, `otp-destination:${noticeId}`),
          codeHash: "",
          codeEncrypted: null,
          maxAttempts: 0,
          expiresAt: new Date(now.getTime() + NOTICE_LIFETIME_MS),
          ip: null,
          purpose: "NOTICE",
          endUserId,
        });
        await appendToOutbox(tx, {
          type: "otp.delivery_requested",
          data: { organizationId: caller.organizationId, requestId: noticeId, occurredAt: now.toISOString() },
        });
      }
      return "changed" as const;
    });
    if (outcome === null || outcome === "wrong") throw INVALID_CODE();
  }

  /**
   * Finishes a sign-in whose code was used while another sign-in created the person or their userId: by
   * now it has committed, so the person and the link are found (or, never both, made).
   */
  async #finishRacedSignIn(
    caller: PartnerCaller,
    raced: Extract<SignInOutcome, { kind: "raced" }>,
  ): Promise<SignInOutcome> {
    return this.db.$transaction(async (tx) => {
      const person = await findOrCreateEndUser(tx, raced.contact, {
        id: raced.newEndUserId,
        encrypted: raced.encrypted,
      });
      if (person.status !== "ACTIVE") return { kind: "refused" as const };
      const subject = await findOrCreateSubject(tx, person.id, caller.organizationId, newId("sub"));
      return { kind: "signed-in" as const, userId: subject.id, isNewUser: subject.created };
    });
  }

  /**
   * Counts a try at an open challenge in `scope` and, when the code is right, marks it used: the challenge,
   * "wrong" (the try counted), or null (no such open challenge).
   */
  async #consume(tx: Tx, caller: PartnerCaller, requestId: string, rawCode: string, scope: AttemptScope, now: Date) {
    const code = rawCode.trim();
    const challenge = await countAttempt(tx, requestId, caller.organizationId, scope, now);
    if (!challenge) return null;
    if (!/^\d+$/.test(code) || !codeMatches(this.masterKey, requestId, code, challenge.codeHash))
      return "wrong" as const;
    await markConsumed(tx, requestId, now);
    return challenge;
  }

  async #settings(caller: PartnerCaller): Promise<OtpSettings> {
    if (caller.otp) return caller.otp;
    const organization = await findOtpOrganization(this.db, caller.organizationId);
    if (!organization) throw fail("INVALID_TOKEN", "organization not found");
    return otpSettingsOf(organization);
  }

  async #openRequestFor(caller: PartnerCaller, input: { channel: string; destination: string }, settings: OtpSettings) {
    let destination: ReturnType<typeof destinationFor>;
    try {
      destination = destinationFor(input.channel, input.destination, settings);
    } catch {
      // Whatever is wrong with the destination, the answer is the one every failed verification gets.
      return null;
    }
    const hash = contactHash(this.masterKey, destination.kind, destination.value);
    return (await latestOpenChallenge(this.db, caller.organizationId, destination.channel, hash))?.id ?? null;
  }
}

/** A contact change needs a sign-in this recent: a token that leaked some time ago cannot take the account. */
const RECENT_SIGN_IN_MS = 10 * 60_000;
/** How long a notice to an old contact may wait for delivery. */
const NOTICE_LIFETIME_MS = 86_400_000;

function assertRecentSignIn(caller: UserCaller, now: number): void {
  if (now - caller.issuedAt.getTime() > RECENT_SIGN_IN_MS) {
    throw fail("RECENT_SIGN_IN_REQUIRED", "sign in again (a code to the current contact) to change it");
  }
}
