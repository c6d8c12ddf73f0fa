import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import { apiKeyOf, requestOrigin } from "@ipaas/domain";
import type { FastifyInstance } from "fastify";
import { PLATFORM_MODULES } from "../../access/access";
import { actorOf } from "../../access/plugin";
import { e164 } from "../../shared/phone";
import { Message, OrganizationParams, problems } from "../../shared/schemas";
import { organizationView } from "./organizations";
import {
  CredentialRotated,
  OrganizationQuery,
  OrganizationView,
  RotateCredential,
  UpdateOrganization,
} from "./schemas";

const M = PLATFORM_MODULES.organizations;

export default async function organizationRoutes(fastify: FastifyInstance) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  app.get(
    "/organizations",
    {
      config: { access: { module: M, action: "read" } },
      schema: {
        tags: ["organizations"],
        summary: "Your organization (banks and the platform owner name one with ?org_id=)",
        description: "Never returns the client secret or its hash.",
        security: [{ bearer: [] }],
        querystring: OrganizationQuery,
        response: { 200: OrganizationView, ...problems(400, 401, 403, 404) },
      },
    },
    async (request) => organizationView(await app.organizations.get(actorOf(request), request.query.org_id, "read")),
  );

  app.put(
    "/organizations",
    {
      config: { access: { module: M, action: "update" } },
      schema: {
        tags: ["organizations"],
        summary: "Change company_name, phone or scopes (adding scopes and changing status: platform owner only)",
        description:
          "`otp` changes only the one-time-code settings it names, within the platform's limits and the bank's " +
          "`organizationOtp` bounds, for the platform owner too (`400 OTP_SETTINGS_NOT_ALLOWED` names the setting). " +
          "`tokenSigningAlg` chooses how api-auth signs the organization's tokens (EdDSA, RS256 or ES256).",
        security: [{ bearer: [] }],
        querystring: OrganizationQuery,
        body: UpdateOrganization,
        response: { 200: Message, ...problems(400, 401, 403, 404) },
      },
    },
    async (request) => {
      const actor = actorOf(request);
      const org = await app.organizations.get(actor, request.query.org_id, "update");
      const { phone, ...rest } = request.body;
      await app.organizations.update(
        actor,
        org,
        { ...rest, ...(phone ? { phone: e164(phone) } : {}) },
        requestOrigin(request),
      );
      app.outboxRelay?.kick();
      return { message: `Organization '${request.body.company_name?.trim() ?? org.name}' updated successfully` };
    },
  );

  app.delete(
    "/organizations",
    {
      config: { access: { module: M, action: "delete" } },
      schema: {
        tags: ["organizations"],
        summary: "Delete your organization (or ?org_id= for the platform owner); every session of its users ends",
        security: [{ bearer: [] }],
        querystring: OrganizationQuery,
        response: { 200: Message, ...problems(400, 401, 403, 404) },
      },
    },
    async (request) => {
      const actor = actorOf(request);
      const org = await app.organizations.get(actor, request.query.org_id, "delete");
      await app.organizations.delete(actor, org, requestOrigin(request));
      app.outboxRelay?.kick();
      return { message: `Organization with id: ${org.id} deleted successfully` };
    },
  );
}

export async function approvalRoutes(fastify: FastifyInstance) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  app.post(
    "/organizations/:orgId/approve",
    {
      config: { access: { module: M, action: "update" } },
      schema: {
        tags: ["organizations"],
        summary: "Approve an organization that registered itself (its bank, or the platform owner)",
        description: "From then on its client credentials get tokens. api-auth learns of it through an event.",
        security: [{ bearer: [] }],
        params: OrganizationParams,
        response: { 200: OrganizationView, ...problems(400, 401, 403, 404, 409) },
      },
    },
    async (request) => {
      const org = await app.organizations.approve(actorOf(request), request.params.orgId, requestOrigin(request));
      app.outboxRelay?.kick();
      return organizationView(org);
    },
  );
}

export async function credentialRoutes(fastify: FastifyInstance) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  app.patch(
    "/organizations/credential",
    {
      config: { access: { module: M, action: "update" } },
      schema: {
        tags: ["organizations"],
        summary: "Rotate the organization's client secret (its Super Admin, or the platform owner with ?org_id=)",
        description:
          "Returns the new secret once. The previous secret keeps working for `graceSeconds` (default 0, at most " +
          "CREDENTIAL_GRACE_MAX_SECONDS); `revokeTokens` makes every token issued under the old secret inactive at " +
          "once. api-auth learns of the rotation through a NATS JetStream event.",
        security: [{ bearer: [] }],
        querystring: OrganizationQuery,
        body: RotateCredential,
        response: { 200: CredentialRotated, ...problems(400, 401, 403, 404) },
      },
    },
    async (request, reply) => {
      const actor = actorOf(request);
      const org = await app.organizations.get(actor, request.query.org_id, "update");
      const options = {
        graceSeconds: request.body.graceSeconds ?? 0,
        revokeTokens: request.body.revokeTokens ?? false,
      };
      const rotated = await app.organizations.rotateCredential(actor, org, options, requestOrigin(request));
      app.outboxRelay?.kick();
      reply.header("cache-control", "no-store");
      return {
        message: "Client secret updated successfully",
        ...rotated,
        apiKey: apiKeyOf(rotated.clientKey, rotated.clientSecret),
      };
    },
  );
}
