import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import { apiKeyOf, requestOrigin } from "@ipaas/domain";
import type { FastifyInstance } from "fastify";
import { authRateLimit } from "../../plugins/rate-limit";
import { e164 } from "../../shared/phone";
import { problems } from "../../shared/schemas";
import { statusLabel } from "../../shared/tenancy";
import { BankRegistered, BankRegistration, OrganizationRegistered, OrganizationRegistration } from "./schemas";

export default async function registrationRoutes(fastify: FastifyInstance) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  app.post(
    "/auth/banks/register",
    {
      config: authRateLimit,
      schema: {
        tags: ["auth"],
        summary: "Register a bank and its first user, the Master Admin",
        body: BankRegistration,
        description:
          "The bank starts Pending until the platform owner approves it (BANK_REGISTRATION=approval, the default); " +
          "`open` starts it Active and `closed` refuses with 403 REGISTRATION_CLOSED. An e-mail address that " +
          "already has an account gets the same answer, nothing is created and the address's owner is told by mail.",
        response: { 201: BankRegistered, ...problems(400, 403, 429) },
      },
    },
    async (request, reply) => {
      const { tenant, role, user } = await app.registration.registerBank(request.body, requestOrigin(request));
      return reply.status(201).send({
        bankId: tenant.id,
        _id: tenant.id,
        bankName: tenant.name,
        branch: tenant.branch ?? "",
        address: (tenant.address ?? {}) as Record<string, string>,
        status: statusLabel(tenant.status),
        isDeleted: false,
        createdAt: tenant.createdAt.toISOString(),
        updatedAt: tenant.updatedAt.toISOString(),
        email: user.email,
        name: user.name,
        roleId: role.id,
        role: role.name,
        head: true,
        internal: false,
        isBankUser: true,
        userId: user.id,
      });
    },
  );

  app.post(
    "/auth/register",
    {
      config: authRateLimit,
      schema: {
        tags: ["auth"],
        summary: "Register an organization (Biller or Agent Institution) under a bank, with its Super Admin",
        description:
          "Returns the client key and the client secret; the secret is shown this once. `scopes` must be among " +
          "those the bank allows from the platform's catalogue (400 SCOPES_NOT_ALLOWED names the others). The " +
          "organization starts Pending, and its credentials get invalid_client, until its bank or the platform " +
          "owner approves it, unless the bank lets organizations start Active. The bank must be Active. An " +
          "e-mail address that already has an account gets the same answer with credentials that do not work; " +
          "nothing is created and the address's owner is told by mail.",
        body: OrganizationRegistration,
        response: { 201: OrganizationRegistered, ...problems(400, 429) },
      },
    },
    async (request, reply) => {
      const body = request.body;
      const input = { ...body, phone: e164(body.phone), gst: body.gst.toUpperCase() };
      const { tenant, role, user, clientKey, clientSecret } = await app.registration.registerOrganization(
        input,
        requestOrigin(request),
      );
      reply.header("cache-control", "no-store");
      return reply.status(201).send({
        orgId: tenant.id,
        bankId: input.bankId,
        companyName: tenant.name,
        phone: input.phone,
        gst: input.gst,
        type: body.type,
        status: statusLabel(tenant.status),
        clientKey,
        clientSecret,
        apiKey: apiKeyOf(clientKey, clientSecret),
        scopes: tenant.scopes.join(" "),
        email: user.email,
        name: user.name,
        roleId: role.id,
        role: role.name,
        head: true,
        internal: false,
        createdAt: tenant.createdAt.toISOString(),
        updatedAt: tenant.updatedAt.toISOString(),
        userId: user.id,
      });
    },
  );
}
