import type { FastifyInstance } from "fastify";
import fp from "fastify-plugin";
import nodemailer, { type Transporter } from "nodemailer";

export interface MailMessage {
  to: string;
  subject: string;
  text: string;
}

export interface Mailer {
  send(message: MailMessage): Promise<void>;
}

declare module "fastify" {
  interface FastifyInstance {
    mailer: Mailer;
  }
}

/**
 * Sends e-mail over SMTP (`SMTP_URL`). Without it (development only; production refuses to start) the
 * message is dropped and only the fact is logged, never its body: it may hold a reset link.
 */
export const mailerPlugin = fp(
  async (app: FastifyInstance) => {
    const { SMTP_URL, MAIL_FROM } = app.config;
    let transport: Transporter | null = null;
    if (SMTP_URL) {
      transport = nodemailer.createTransport(SMTP_URL, { from: MAIL_FROM });
      app.addHook("onClose", async () => transport?.close());
    } else {
      app.log.warn("SMTP_URL is not set: e-mail is not delivered (development only)");
    }
    app.decorate("mailer", {
      async send(message) {
        if (!transport) {
          app.log.info({ subject: message.subject }, "e-mail not sent: no SMTP_URL");
          return;
        }
        await transport.sendMail({ from: MAIL_FROM, to: message.to, subject: message.subject, text: message.text });
      },
    } satisfies Mailer);
  },
  { name: "mailer", dependencies: ["platform"] },
);
