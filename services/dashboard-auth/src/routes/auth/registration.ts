import { requestOrigin } from "@ipaas/service-kit";
import type { FastifyInstance } from "fastify";
import type { Static } from "typebox";
import { e164 } from "../../domain/phone";
import { statusLabel } from "../../domain/tenancy";
import { authRateLimit } from "../../plugins/rate-limit";
import {
  BankRegistered,
  BankRegistration,
  OrganizationRegistered,
  OrganizationRegistration,
  problems,
} from "../../schemas/auth";

export default async function registrationRoutes(app: FastifyInstance) {
  app.post<{ Body: Static<typeof BankRegistration> }>(
    "/auth/banks/register",
    {
      config: authRateLimit,
      schema: {
        tags: ["auth"],
        summary: "Register a bank and its first user, the Master Admin",
        body: BankRegistration,
        response: { 201: BankRegistered, ...problems(400, 409, 429) },
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

  app.post<{ Body: Static<typeof OrganizationRegistration> }>(
    "/auth/register",
    {
      config: authRateLimit,
      schema: {
        tags: ["auth"],
        summary: "Register an organization (Biller or Agent Institution) under a bank, with its Super Admin",
        description: "Returns the client key and the client secret. The secret is shown this once.",
        body: OrganizationRegistration,
        response: { 201: OrganizationRegistered, ...problems(400, 409, 429) },
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
