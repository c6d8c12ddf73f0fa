import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import { requestOrigin } from "@ipaas/domain";
import type { FastifyInstance } from "fastify";
import Type from "typebox";
import { PLATFORM_MODULES } from "../../access/access";
import { actorOf, platformOwnerOf } from "../../access/plugin";
import { problems } from "../../shared/schemas";
import { tenantStatusOf } from "../../shared/tenancy";
import { bankView } from "./banks";
import { BankCreated, BankListQuery, BankParams, BankSettings, BankView, CreateBank } from "./schemas";

const M = PLATFORM_MODULES.banks;

/** Onboarding banks (the platform owner) and a bank's terms for its organizations (the bank or the owner). */
export default async function bankRoutes(fastify: FastifyInstance) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  app.get(
    "/banks",
    {
      config: { access: { module: M, action: "read" } },
      schema: {
        tags: ["banks"],
        summary: "Every bank, or those with one status such as ?status=Pending (platform owner)",
        security: [{ bearer: [] }],
        querystring: BankListQuery,
        response: { 200: Type.Array(BankView), ...problems(400, 401, 403) },
      },
    },
    async (request) => {
      platformOwnerOf(request, "onboards banks");
      const { status } = request.query;
      return (await app.banks.list(status ? tenantStatusOf(status) : undefined)).map(bankView);
    },
  );

  app.post(
    "/banks",
    {
      config: { access: { module: M, action: "create" } },
      schema: {
        tags: ["banks"],
        summary: "Create a bank, Active at once, with its Master Admin (platform owner)",
        description: "The Master Admin is mailed a single-use link (30 minutes) to choose their own password.",
        security: [{ bearer: [] }],
        body: CreateBank,
        response: { 201: BankCreated, ...problems(400, 401, 403, 409) },
      },
    },
    async (request, reply) => {
      const { bank, user } = await app.banks.create(
        platformOwnerOf(request, "onboards banks"),
        request.body,
        requestOrigin(request),
      );
      return reply.status(201).send({
        ...bankView(bank),
        userId: user.id,
        email: user.email,
        name: user.name,
        message: "Bank created; its Master Admin has been sent a link to set their password",
      });
    },
  );

  app.get(
    "/banks/:bankId",
    {
      config: { access: { module: M, action: "read" } },
      schema: {
        tags: ["banks"],
        summary: "A bank and its terms for organizations (its own users, or the platform owner)",
        security: [{ bearer: [] }],
        params: BankParams,
        response: { 200: BankView, ...problems(400, 401, 403, 404) },
      },
    },
    async (request) => bankView(await app.banks.get(actorOf(request), request.params.bankId)),
  );

  app.put(
    "/banks/:bankId",
    {
      config: { access: { module: M, action: "update" } },
      schema: {
        tags: ["banks"],
        summary:
          "Choose which catalogue scopes the bank's organizations may hold, the bounds of their one-time-code " +
          "settings, and whether they start Active",
        description:
          "Its own users (with banks:update) or the platform owner. Narrowing `organizationScopes` takes the " +
          "dropped scopes from the bank's organizations at once; their partner tokens stop carrying them. " +
          "Narrowing `organizationOtp` clamps their one-time-code settings at once: channels and countries " +
          "outside the bounds are dropped (the default country becomes the first one left; with none left, " +
          "no phone number is allowed), dailyBudget and userTokenTtlSeconds come down to the maximum, and " +
          "device binding is turned on when required.",
        security: [{ bearer: [] }],
        params: BankParams,
        body: BankSettings,
        response: { 200: BankView, ...problems(400, 401, 403, 404) },
      },
    },
    async (request) => {
      const bank = await app.banks.updateSettings(
        actorOf(request),
        request.params.bankId,
        request.body,
        requestOrigin(request),
      );
      app.outboxRelay?.kick();
      return bankView(bank);
    },
  );

  app.post(
    "/banks/:bankId/approve",
    {
      config: { access: { module: M, action: "update" } },
      schema: {
        tags: ["banks"],
        summary: "Approve a bank that registered itself (platform owner)",
        security: [{ bearer: [] }],
        params: BankParams,
        response: { 200: BankView, ...problems(400, 401, 403, 404, 409) },
      },
    },
    async (request) =>
      bankView(
        await app.banks.approve(
          platformOwnerOf(request, "onboards banks"),
          request.params.bankId,
          requestOrigin(request),
        ),
      ),
  );
}
