import { problems } from "@ipaas/service-kit";
import Type from "typebox";
import { Channel, Destination, SentView } from "./otp";

/* The person's own profile, for their device (user token). */

const security = [{ bearer: [] }];

const ProfileView = Type.Object({
  userId: Type.String(),
  name: Type.Union([Type.String(), Type.Null()]),
  phone: Type.Union([Type.String(), Type.Null()], { description: "E.164" }),
  email: Type.Union([Type.String(), Type.Null()]),
  createdAt: Type.String({ format: "date-time", description: "When the person first signed in here" }),
});

export const getProfileRoute = {
  tags: ["users"],
  summary: "The person's own profile (user token, or its Base64 form)",
  security,
  response: { 200: ProfileView, ...problems(401) },
};

export const updateProfileRoute = {
  tags: ["users"],
  summary: "Change the person's name",
  security,
  body: Type.Object(
    { name: Type.String({ minLength: 1, maxLength: 120, pattern: "\\S" }) },
    { additionalProperties: false },
  ),
  response: { 200: ProfileView, ...problems(400, 401) },
};

export const signOutRoute = {
  tags: ["users"],
  summary: "End this user token: it is refused from now on",
  security,
  response: { 204: Type.Null(), ...problems(401) },
};

export const eraseRoute = {
  tags: ["users"],
  summary: "Leave this organization: its userId is erased, and the person when no organization knows them",
  security,
  response: { 204: Type.Null(), ...problems(401) },
};

export const beginContactChangeRoute = {
  tags: ["users"],
  summary: "Send a code to a new phone number or email address (a user token from the last 10 minutes)",
  security,
  body: Type.Object({ channel: Channel, destination: Destination }, { additionalProperties: false }),
  response: {
    202: SentView,
    ...problems(400, 401, 403, 429),
  },
};

export const confirmContactChangeRoute = {
  tags: ["users"],
  summary: "Replace the phone number or email with the new one, with the code sent to it; the old one is told",
  security,
  body: Type.Object(
    { requestId: Type.String({ minLength: 1, maxLength: 64 }), code: Type.String({ minLength: 1, maxLength: 16 }) },
    { additionalProperties: false },
  ),
  response: { 200: ProfileView, ...problems(400, 401, 409) },
};
