import type { FastifyInstance } from "fastify";
import fp from "fastify-plugin";
import Type from "typebox";
import { type SigningKeyPolicy, SigningKeyStore } from "./signing-keys";
import { TokenService } from "./tokens";

declare module "fastify" {
  interface FastifyInstance {
    signingKeys: SigningKeyStore;
    tokens: TokenService;
  }
}

export interface SigningKeysOptions extends SigningKeyPolicy {
  service: string;
  issuer: string;
  /** How often an instance re-reads keys another instance may have made. Must stay under the publish lead. */
  reloadIntervalMs?: number;
}

/** A public key of the set: Ed25519 (`OKP`), P-256 (`EC`) or RSA, each naming its algorithm. */
const JwkSchema = Type.Object(
  {
    kty: Type.String(),
    kid: Type.String(),
    alg: Type.String(),
    use: Type.String(),
    crv: Type.Optional(Type.String()),
    x: Type.Optional(Type.String()),
    y: Type.Optional(Type.String()),
    n: Type.Optional(Type.String()),
    e: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
);

/** The service's signing keys and token service, and `GET /.well-known/jwks.json`. */
export const signingKeysPlugin = fp(
  async (app: FastifyInstance, options: SigningKeysOptions) => {
    const store = new SigningKeyStore(app.db, app.masterKey, options.service, options);
    await store.init();
    app.decorate("signingKeys", store);
    app.decorate("tokens", new TokenService(store, options.issuer));

    const interval = options.reloadIntervalMs ?? 60_000;
    let ticks = 0;
    const timer = setInterval(() => {
      ticks += 1;
      // Every hour, also make a successor key when rotation is due; otherwise just pick up others' keys.
      const work = ticks % Math.max(1, Math.round(3_600_000 / interval)) === 0 ? store.init() : store.reload();
      work.catch((error: unknown) => app.log.warn({ err: error }, "could not refresh signing keys"));
    }, interval);
    timer.unref();
    app.addHook("onClose", async () => clearInterval(timer));

    app.get(
      "/.well-known/jwks.json",
      {
        schema: {
          tags: ["keys"],
          summary: "The public keys that verify this service's tokens (RFC 7517)",
          response: { 200: Type.Object({ keys: Type.Array(JwkSchema) }) },
        },
      },
      async (_request, reply) => {
        reply.header("cache-control", "public, max-age=300");
        return store.jwks();
      },
    );
  },
  { name: "signing-keys", dependencies: ["database", "platform"] },
);
