import Type from "typebox";
import { Email, Password } from "../../shared/schemas";

export const ForgotPasswordBody = Type.Object(
  {
    email: Email,
    org_id: Type.Optional(
      Type.Union([Type.String({ maxLength: 64 }), Type.Number()], {
        description: "Accepted for compatibility; the email alone identifies the account",
      }),
    ),
  },
  { additionalProperties: false },
);

export const ResetPasswordBody = Type.Object(
  { token: Type.String({ minLength: 20, maxLength: 200 }), password: Password },
  { additionalProperties: false },
);

export const ChangePasswordBody = Type.Object(
  {
    current_password: Password,
    password: Password,
    confirm_password: Password,
  },
  { additionalProperties: false },
);
