// A Messages API of the Twilio kind, served over real HTTP inside the test: api-auth's SMS and WhatsApp
// adapter talks to it exactly as it would to the real gateway.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";

export interface GatewayMessage {
  path: string;
  authorization: string;
  to: string;
  from: string;
  body: string;
  /** The status it was answered with; null when the gateway never answered. */
  status: number | null;
}

export class MessagesGateway {
  readonly received: GatewayMessage[] = [];
  /** How the n-th request (from 1) is answered: a status, or "hang" to never answer. */
  answer: (n: number) => number | "hang" = () => 201;
  readonly #hanging = new Set<ServerResponse>();

  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {}

  static async start(): Promise<MessagesGateway> {
    let gateway: MessagesGateway | undefined;
    const server = createServer((request, response) => gateway?.handle(request, response));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const address = server.address();
    if (address === null || typeof address === "string") throw new Error("no port");
    gateway = new MessagesGateway(server, address.port);
    return gateway;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}/2010-04-01`;
  }

  /** The messages answered with a 2xx: what was really sent. */
  get delivered(): GatewayMessage[] {
    return this.received.filter((m) => m.status !== null && m.status >= 200 && m.status < 300);
  }

  private handle(request: IncomingMessage, response: ServerResponse): void {
    const chunks: Buffer[] = [];
    request.on("data", (c: Buffer) => chunks.push(c));
    request.on("end", () => {
      const form = new URLSearchParams(Buffer.concat(chunks).toString("utf8"));
      const message: GatewayMessage = {
        path: request.url ?? "",
        authorization: request.headers.authorization ?? "",
        to: form.get("To") ?? "",
        from: form.get("From") ?? "",
        body: form.get("Body") ?? "",
        status: null,
      };
      this.received.push(message);
      const answer = this.answer(this.received.length);
      if (answer === "hang") {
        this.#hanging.add(response);
        return;
      }
      message.status = answer;
      response.writeHead(answer, { "content-type": "application/json" });
      response.end(JSON.stringify({ sid: `SM${this.received.length}` }));
    });
  }

  async close(): Promise<void> {
    for (const response of this.#hanging) response.destroy();
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }
}
