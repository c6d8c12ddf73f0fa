import type { Db } from "@ipaas/db";
import type { Channel } from "@ipaas/domain";
import type { MasterKey } from "@ipaas/service-kit";
import { findOtpOrganization } from "../../repositories/organization-credentials";
import { awaitsDelivery, leaseDelivery, markSent, recordDeliveryFailure } from "../../repositories/otp-challenges";
import { type CodeSender, DeliveryError } from "./senders/sender";

/** The delivery should be tried again later (the message goes back to the queue). */
export class RetryDelivery extends Error {
  override name = "RetryDelivery";
}

export interface DeliveryOptions {
  maxAttempts: number;
  /** How long one attempt holds a request; longer than a sender's timeout. */
  leaseMs: number;
}

export type DeliveryOutcome = "sent" | "failed" | "nothing_to_do";

const CHANNELS: Record<string, Channel> = { SMS: "sms", EMAIL: "email", WHATSAPP: "whatsapp" };

/**
 * Delivers one queued code (or a notice that a contact was replaced): leases the request, decrypts where it goes and the code, hands them to the
 * channel's sender, and records the outcome. A request that is no longer waiting (sent, failed, used) is
 * left alone, so a message handled twice never sends twice while the first attempt's lease lasts. A
 * failure that may pass is retried (RetryDelivery) until `maxAttempts`; then the request is `failed`. The
 * code's ciphertext is cleared once the request is sent or failed.
 */
export class CodeDelivery {
  constructor(
    private readonly db: Db,
    private readonly masterKey: MasterKey,
    private readonly senders: Record<Channel, CodeSender>,
    private readonly options: DeliveryOptions,
    private readonly now: () => number = Date.now,
  ) {}

  async deliver(requestId: string): Promise<DeliveryOutcome> {
    const now = new Date(this.now());
    const leased = await leaseDelivery(this.db, requestId, now, new Date(now.getTime() + this.options.leaseMs));
    if (!leased) {
      // Another worker holds it: look again once its lease may have run out.
      if (await awaitsDelivery(this.db, requestId)) throw new RetryDelivery("another worker holds this delivery");
      return "nothing_to_do";
    }
    if (leased.expiresAt <= now) {
      await recordDeliveryFailure(this.db, requestId, "expired before it could be sent", true);
      return "failed";
    }
    const channel = CHANNELS[leased.channel] ?? "sms";
    const organization = await findOtpOrganization(this.db, leased.tenantId);
    try {
      await this.senders[channel].send({
        kind: leased.purpose === "NOTICE" ? "contact_changed" : "code",
        channel,
        to: this.masterKey.decrypt(leased.destinationEncrypted, `otp-destination:${requestId}`),
        code: leased.codeEncrypted ? this.masterKey.decrypt(leased.codeEncrypted, `otp-code:${requestId}`) : "",
        organizationName: organization?.name ?? "IPaaS",
        ttlMinutes: Math.max(1, Math.round((leased.expiresAt.getTime() - now.getTime()) / 60_000)),
      });
    } catch (error) {
      const failure = error instanceof DeliveryError ? error : new DeliveryError("sender error", true);
      const final = !failure.retryable || leased.deliveryAttempts >= this.options.maxAttempts;
      await recordDeliveryFailure(this.db, requestId, failure.reason, final);
      if (final) return "failed";
      throw new RetryDelivery(failure.reason);
    }
    await markSent(this.db, requestId, new Date(this.now()));
    return "sent";
  }
}
