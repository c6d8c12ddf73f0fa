import Type from "typebox";
import { Timestamp } from "../../shared/schemas";

export const SessionTokens = Type.Object({
  token: Type.String({ description: "EdDSA JWT access token" }),
  expiredIn: Type.String({ description: "Access-token lifetime, e.g. 15m" }),
  createdAt: Timestamp,
  refreshToken: Type.String(),
});

export const VerifyTokenResult = Type.Object({
  success: Type.Literal(true),
  token: Type.String(),
});

export const RefreshBody = Type.Object(
  { refreshToken: Type.String({ minLength: 20, maxLength: 200 }) },
  { additionalProperties: false },
);
