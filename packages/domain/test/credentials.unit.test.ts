import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { apiKeyOf, credentialsOfApiKey, newClientSecret } from "../src";

describe("API keys", () => {
  it("carry the client key and secret they were made from", () => {
    const clientKey = randomUUID();
    const { clientSecret } = newClientSecret();
    expect(credentialsOfApiKey(apiKeyOf(clientKey, clientSecret))).toEqual({ clientKey, clientSecret });
  });

  it("are refused in any other shape", () => {
    const good = apiKeyOf(randomUUID(), newClientSecret().clientSecret);
    for (const bad of ["", good.replace("ipaas_sk_", "ipaas_pk_"), good.slice(0, 40), `${good} `, good.toUpperCase()]) {
      expect(credentialsOfApiKey(bad)).toBeNull();
    }
  });
});
