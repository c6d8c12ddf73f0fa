import nodemailer, { type Transporter } from "nodemailer";
import { type CodeMessage, type CodeSender, DeliveryError, messageSubject, messageText } from "./sender";

const escapeHtml = (value: string) => value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** Codes by e-mail over SMTP, with a plain-text and an HTML body and the organization's name in the subject. */
export class EmailSender implements CodeSender {
  readonly #transport: Transporter;

  constructor(
    smtpUrl: string,
    private readonly from: string,
    timeoutMs: number,
  ) {
    const url = new URL(smtpUrl);
    const secure = url.protocol === "smtps:";
    this.#transport = nodemailer.createTransport({
      host: url.hostname,
      port: url.port ? Number(url.port) : secure ? 465 : 587,
      secure,
      ...(url.username
        ? { auth: { user: decodeURIComponent(url.username), pass: decodeURIComponent(url.password) } }
        : {}),
      connectionTimeout: timeoutMs,
      greetingTimeout: timeoutMs,
      socketTimeout: timeoutMs,
    });
  }

  async send(message: CodeMessage): Promise<void> {
    const text = messageText(message);
    const codeBlock = message.code
      ? `<p style="font-size:24px;letter-spacing:4px"><strong>${escapeHtml(message.code)}</strong></p>`
      : "";
    const html = `${codeBlock}<p>${escapeHtml(text)}</p>`;
    try {
      await this.#transport.sendMail({
        from: this.from,
        to: message.to,
        subject: messageSubject(message),
        text,
        html,
      });
    } catch (error) {
      const { responseCode, code } = error as { responseCode?: number; code?: string };
      // A 5xx reply is the server refusing this message for good; anything else (4xx, network) may pass later.
      if (responseCode !== undefined) throw new DeliveryError(`smtp ${responseCode}`, responseCode < 500);
      throw new DeliveryError(`smtp ${code ?? "connection failed"}`, true);
    }
  }

  close(): void {
    this.#transport.close();
  }
}
