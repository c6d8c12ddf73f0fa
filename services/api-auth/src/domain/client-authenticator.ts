import { setTimeout as sleep } from "node:timers/promises";
import type { Db } from "@ipaas/db";
import { writeAudit } from "@ipaas/domain";
import type { FastifyBaseLogger } from "fastify";
import type { PresentedClient } from "./client-credentials";
import { type ClientRecord, organizationInGoodStanding, secretAccepted } from "./clients";
import type { AuthFailureGuard } from "./limits";
import { invalidClient, tooManyRequests } from "./oauth-errors";

/** Which endpoint is authenticating the client. */
export type AuthPurpose = "token" | "introspection" | "revocation";

export interface AuthContext {
  purpose: AuthPurpose;
  origin: { ip: string; userAgent: string | null };
  log: FastifyBaseLogger;
}

type FailureReason =
  | "unknown_client"
  | "wrong_secret"
  | "organization_pending"
  | "organization_suspended"
  | "organization_deleted";

export interface ClientAuthenticatorDeps {
  clients: { get(clientKey: string): Promise<ClientRecord | null> };
  failures: AuthFailureGuard;
  db: Db;
  now?: () => number;
}

/**
 * Authenticates a client by its key and secret: the record comes from the client cache, the secret is
 * compared with the stored SHA-256 in constant time, and nothing is written on success.
 *
 * The secret is always compared and the right one always succeeds: the failure counters only decide how a
 * wrong secret (or unknown key) is answered, so they cannot be used to lock an organization out.
 *
 * At the token endpoint the organization must also be in good standing. Introspection and revocation
 * only need the client to prove who it is: a suspended or deleted organization can still learn that its
 * tokens are inactive and revoke them, which grants nothing.
 */
export class ClientAuthenticator {
  readonly #now: () => number;

  constructor(private readonly deps: ClientAuthenticatorDeps) {
    this.#now = deps.now ?? Date.now;
  }

  async authenticate(presented: PresentedClient, context: AuthContext): Promise<ClientRecord> {
    const client = await this.deps.clients.get(presented.clientKey);
    const reason = this.#refusal(client, presented.secret, context.purpose);
    if (reason === null && client !== null) return client;

    // A suspended or deleted organization's right secret is refused, but it is no guess: it is not counted.
    if (reason === "unknown_client" || reason === "wrong_secret") await this.#throttle(client, presented, context);
    await this.#recordFailure(client, presented, context, reason ?? "unknown_client");
    throw invalidClient();
  }

  /**
   * Counts a guess and throws 429 when a counter is over its limit. While the client is over its ceiling
   * across addresses the answer is also held for a bounded time, which slows a guesser rotating addresses;
   * the first time it gets there in a window, a warning goes to the logs. Refused guesses are not audited:
   * shedding that write is part of what the counters are for.
   */
  async #throttle(client: ClientRecord | null, presented: PresentedClient, context: AuthContext): Promise<void> {
    const verdict = this.deps.failures.recordFailure(presented.clientKey, context.origin.ip);
    if (verdict.ceilingReached) {
      // Only a real client is named: an unknown "key" may be a secret pasted into the wrong field.
      const organizationId = client?.organizationId ?? null;
      context.log.warn({ endpoint: context.purpose, organizationId }, "client under guessing attack");
    }
    if (verdict.retryAfterSeconds === null) return;
    if (verdict.delayMs > 0) await sleep(verdict.delayMs);
    context.log.info(
      { endpoint: context.purpose, retryAfter: verdict.retryAfterSeconds },
      "client authentication refused: too many failures",
    );
    throw tooManyRequests(verdict.retryAfterSeconds);
  }

  #refusal(client: ClientRecord | null, secret: string, purpose: AuthPurpose): FailureReason | null {
    // Compared even for an unknown client, so both answers cost the same.
    const accepted = secretAccepted(client, secret, this.#now());
    if (client === null) return "unknown_client";
    if (!accepted) return "wrong_secret";
    if (purpose !== "token" || organizationInGoodStanding(client)) return null;
    if (client.deleted) return "organization_deleted";
    return client.status === "PENDING" ? "organization_pending" : "organization_suspended";
  }

  /**
   * Logs and audits a failed attempt. The presented key is recorded only when it names a real client: an
   * unknown "key" may be a secret pasted into the wrong field.
   */
  async #recordFailure(
    client: ClientRecord | null,
    presented: PresentedClient,
    context: AuthContext,
    reason: FailureReason,
  ): Promise<void> {
    const organizationId = client?.organizationId ?? null;
    const details = { endpoint: context.purpose, method: presented.method, reason };
    context.log.info({ ...details, organizationId }, "client authentication failed");
    try {
      await writeAudit(
        this.deps.db,
        {
          action: "oauth.client_authentication",
          outcome: "failure",
          actorType: "client",
          actorId: client?.clientKey ?? null,
          tenantId: organizationId,
          details,
        },
        context.origin,
      );
    } catch (error) {
      // The refusal stands whether or not its record could be written.
      context.log.warn({ err: error }, "could not audit a failed client authentication");
    }
  }
}
