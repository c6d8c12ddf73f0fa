// ipaas-nodejs for CommonJS: `const ipaas = require("ipaas-nodejs")` is the function itself; the error
// class and the types are its members (`ipaas.IpaasError`, `ipaas.VerifyOtpResponse`).
import type * as Api from "./auth.js";
import { type Ipaas as Client, ipaas as create, type IpaasOptions } from "./client.js";
import { IpaasError as ErrorClass } from "./errors.js";

function ipaas(apiKey: string, options?: IpaasOptions): Client {
  return create(apiKey, options);
}

namespace ipaas {
  export const IpaasError = ErrorClass;
  export type IpaasError = ErrorClass;
  export type Ipaas = Client;
  export type Options = IpaasOptions;
  export type Auth = Api.Auth;
  export type Channel = Api.Channel;
  export type SendOtpResponse = Api.SendOtpResponse;
  export type VerifyOtpResponse = Api.VerifyOtpResponse;
  export type VerifyByRequest = Api.VerifyByRequest;
  export type TokenStatus = Api.TokenStatus;
  export type RequestStatus = Api.RequestStatus;
  export type VerifiedUserToken = Api.VerifiedUserToken;
}

export = ipaas;
