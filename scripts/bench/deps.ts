// The libraries the baselines need, taken from the services' own dependency trees rather than from copies
// added at the repository root: a baseline is only a fair yardstick if it runs the very same Fastify,
// fast-jwt and argon2 builds (same versions, same native binding) that the services load.

import {
  createDecoder,
  createSigner,
  createVerifier,
} from "../../packages/service-kit/node_modules/fast-jwt/src/index.js";
import Fastify from "../../packages/service-kit/node_modules/fastify/fastify.js";
import argon2 from "../../services/dashboard-auth/node_modules/argon2/argon2.cjs";

export { argon2, createDecoder, createSigner, createVerifier, Fastify };

/** The OWASP argon2id parameters dashboard-auth hashes passwords with (services/dashboard-auth/src/features/passwords/passwords.ts). */
export const ARGON2_OPTIONS = { type: argon2.argon2id, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;
