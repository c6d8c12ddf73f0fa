import { problems } from "@ipaas/service-kit";
import Type from "typebox";

/*
 * The one-time-code routes' schemas. The response schemas are also the serializer's allow-list: nothing
 * about the person (phone, email, name) is in any of them.
 */

const security = [{ bearer: [] }];

const Code = Type.String({ minLength: 1, maxLength: 16, description: "The code the person received" });
export const Channel = Type.String({ maxLength: 16, description: "sms (the seed's mobile), email or whatsapp" });
export const Destination = Type.String({
  minLength: 3,
  maxLength: 254,
  description: "A phone number or an email address",
});
const RequestId = Type.String({ minLength: 1, maxLength: 64 });
const DeviceKey = Type.Object(
  { kty: Type.String({ maxLength: 8 }) },
  {
    additionalProperties: true,
    maxProperties: 16,
    description:
      "The public key (JWK: EC P-256, Ed25519 or RSA) the person's app generated: the token is bound to it " +
      "(cnf.jkt, RFC 9449) and the profile API then takes it only with a DPoP proof signed by that key",
  },
);

/** A code on its way: what a send answers (here and for a contact change). */
export const SentView = Type.Object({
  requestId: Type.String(),
  channel: Type.String(),
  expiresIn: Type.Integer({ description: "Seconds the code stays valid" }),
  resendAfter: Type.Integer({ description: "Seconds before another code may go to this destination" }),
});

export const sendRoute = {
  tags: ["otp"],
  summary: "Send a one-time code to a person (partner token with the otp scope)",
  security,
  body: Type.Object(
    {
      channel: Channel,
      destination: Destination,
      endUserIp: Type.Optional(
        Type.String({
          maxLength: 64,
          description:
            "The address the person's request reached the backend from: codes asked for from one address are " +
            "capped per hour (an IPv6 address counts by its /64); never stored",
        }),
      ),
    },
    { additionalProperties: false },
  ),
  response: {
    202: SentView,
    ...problems(400, 401, 403, 429),
  },
};

export const verifyRoute = {
  tags: ["otp"],
  summary: "Check a code: the person's userId for this organization and a user token",
  security,
  body: Type.Union([
    Type.Object(
      { requestId: RequestId, code: Code, deviceKey: Type.Optional(DeviceKey) },
      { additionalProperties: false },
    ),
    Type.Object(
      { channel: Channel, destination: Destination, code: Code, deviceKey: Type.Optional(DeviceKey) },
      { additionalProperties: false },
    ),
  ]),
  response: {
    200: Type.Object({
      userId: Type.String({ description: "Pairwise: the same person has another userId in every organization" }),
      token: Type.String({ description: "The user token (JWT, aud ipaas-user-api) to hand to the person's device" }),
      tokenType: Type.Union([Type.Literal("Bearer"), Type.Literal("DPoP")], {
        description: "DPoP when the token is bound to the device's key (sent with deviceKey), else Bearer",
      }),
      expiresIn: Type.Integer(),
      isNewUser: Type.Boolean({ description: "First sign-in of this person at this organization" }),
    }),
    ...problems(400, 401, 403),
  },
};

export const tokenStatusRoute = {
  tags: ["otp"],
  summary: "Whether a user token of this organization's users is active",
  security,
  body: Type.Object({ token: Type.String({ minLength: 1, maxLength: 8192 }) }, { additionalProperties: false }),
  response: {
    200: Type.Object({
      active: Type.Boolean(),
      userId: Type.Optional(Type.String()),
      expiresAt: Type.Optional(Type.String({ format: "date-time" })),
    }),
    ...problems(400, 401, 403),
  },
};

export const requestStateRoute = {
  tags: ["otp"],
  summary: "Where the delivery of a code stands (never where it went)",
  security,
  params: Type.Object({ requestId: RequestId }),
  response: {
    200: Type.Object({
      requestId: Type.String(),
      channel: Type.String(),
      status: Type.Union([Type.Literal("queued"), Type.Literal("sent"), Type.Literal("failed")]),
      createdAt: Type.String({ format: "date-time" }),
      sentAt: Type.Union([Type.String({ format: "date-time" }), Type.Null()]),
      expiresAt: Type.String({ format: "date-time" }),
    }),
    ...problems(401, 403, 404),
  },
};

export const forgetUserRoute = {
  tags: ["otp"],
  summary: "Forget one of the organization's users (the person goes when no organization knows them)",
  security,
  params: Type.Object({ userId: Type.String({ minLength: 1, maxLength: 64 }) }),
  response: { 204: Type.Null(), ...problems(401, 403, 404) },
};
