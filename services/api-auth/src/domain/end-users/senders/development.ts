import { type CodeMessage, type CodeSender, messageText } from "./sender";

/**
 * Development only (refused in production): writes the message to the service's log, marked as a
 * development delivery, so sign-in works with nothing configured. The one place a code is ever written out.
 */
export class DevelopmentSender implements CodeSender {
  constructor(private readonly write: (line: string) => void) {}

  async send(message: CodeMessage): Promise<void> {
    this.write(`[development delivery, nothing was sent] ${message.channel} to ${message.to}: ${messageText(message)}`);
  }
}
