// ipaas-nodejs for ES modules: `import ipaas from "ipaas-nodejs"`.
import { ipaas } from "./client.js";

export type {
  Auth,
  Channel,
  RequestStatus,
  SendOtpResponse,
  TokenStatus,
  VerifiedUserToken,
  VerifyByRequest,
  VerifyOtpResponse,
} from "./auth.js";
export { type Ipaas, type IpaasOptions, ipaas } from "./client.js";
export { IpaasError } from "./errors.js";
export default ipaas;
