import type { Channel } from "@ipaas/domain";

/** One code on its way to one person. */
export interface CodeMessage {
  channel: Channel;
  /** E.164 or an email address. */
  to: string;
  code: string;
  organizationName: string;
  ttlMinutes: number;
}

/** Sends codes on one or more channels. Throws DeliveryError when the message did not go out. */
export interface CodeSender {
  send(message: CodeMessage): Promise<void>;
}

/**
 * A delivery that did not happen. `reason` is in the provider's terms (a status, a timeout) and never
 * holds the destination or the code; `retryable` says whether trying again may work.
 */
export class DeliveryError extends Error {
  override name = "DeliveryError";
  constructor(
    readonly reason: string,
    readonly retryable: boolean,
  ) {
    super(`delivery failed: ${reason}`);
  }
}

/** The words of a code message: the code first, so phones can offer it; the organization; the expiry. */
export function messageText({ code, organizationName, ttlMinutes }: CodeMessage): string {
  return `${code} is your ${organizationName} sign-in code. It expires in ${ttlMinutes} minutes. Never share it.`;
}
