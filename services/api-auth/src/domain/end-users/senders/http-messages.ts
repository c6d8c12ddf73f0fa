import { type CodeMessage, type CodeSender, DeliveryError, messageText } from "./sender";

export interface HttpMessagesOptions {
  /** The API's base, e.g. `https://api.twilio.com/2010-04-01`. */
  baseUrl: string;
  accountId: string;
  authToken: string;
  smsFrom: string;
  whatsappFrom?: string | undefined;
  timeoutMs: number;
  fetch?: typeof fetch;
}

/**
 * SMS and WhatsApp codes through a Messages API of the Twilio kind: `POST <base>/Accounts/<id>/Messages.json`
 * with a form body (`To`, `From`, `Body`) and HTTP Basic. WhatsApp uses the `whatsapp:` address form.
 * A 2xx is sent; 429, 5xx, timeouts and network errors may pass later; any other 4xx will not.
 */
export class HttpMessagesSender implements CodeSender {
  readonly #url: string;
  readonly #authorization: string;
  readonly #fetch: typeof fetch;

  constructor(private readonly options: HttpMessagesOptions) {
    this.#url = `${options.baseUrl.replace(/\/+$/, "")}/Accounts/${encodeURIComponent(options.accountId)}/Messages.json`;
    this.#authorization = `Basic ${Buffer.from(`${options.accountId}:${options.authToken}`).toString("base64")}`;
    this.#fetch = options.fetch ?? fetch;
  }

  async send(message: CodeMessage): Promise<void> {
    let to = message.to;
    let from = this.options.smsFrom;
    if (message.channel === "whatsapp") {
      if (!this.options.whatsappFrom) throw new DeliveryError("no WhatsApp sender configured", false);
      to = `whatsapp:${message.to}`;
      from = `whatsapp:${this.options.whatsappFrom}`;
    }
    let status: number;
    try {
      const response = await this.#fetch(this.#url, {
        method: "POST",
        headers: { authorization: this.#authorization, "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({ To: to, From: from, Body: messageText(message) }).toString(),
        signal: AbortSignal.timeout(this.options.timeoutMs),
      });
      status = response.status;
      await response.arrayBuffer().catch(() => undefined);
    } catch (error) {
      const name = (error as { name?: string }).name;
      throw new DeliveryError(name === "TimeoutError" ? "gateway timeout" : "gateway unreachable", true);
    }
    if (status >= 200 && status < 300) return;
    throw new DeliveryError(`gateway answered ${status}`, status === 429 || status >= 500);
  }
}
