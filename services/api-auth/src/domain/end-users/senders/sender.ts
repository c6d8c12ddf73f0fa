import type { Channel } from "@ipaas/domain";

/** One code on its way to one person, or a notice to their old contact that it was replaced. */
export interface CodeMessage {
  kind: "code" | "contact_changed";
  channel: Channel;
  /** E.164 or an email address. */
  to: string;
  /** Empty for a notice. */
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

/**
 * The words of a message: for a code, the code first (so phones can offer it), the organization and the
 * expiry; for a notice, what changed and what to do if it was not the person.
 */
export function messageText({ kind, channel, code, organizationName, ttlMinutes }: CodeMessage): string {
  if (kind === "contact_changed") {
    const what = channel === "email" ? "email address" : "phone number";
    return `The ${what} you sign in to ${organizationName} with was changed. If this was not you, contact ${organizationName}.`;
  }
  return `${code} is your ${organizationName} sign-in code. It expires in ${ttlMinutes} minutes. Never share it.`;
}

/** The subject of the e-mail that carries a message. */
export function messageSubject({ kind, organizationName }: CodeMessage): string {
  return kind === "contact_changed"
    ? `${organizationName}: your sign-in contact was changed`
    : `${organizationName} sign-in code`;
}
