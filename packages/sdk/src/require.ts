// ipaas-nodejs for CommonJS: `const ipaas = require("ipaas-nodejs")` is the function itself, with the rest
// as its properties (`ipaas.IpaasError`).
import { ipaas } from "./client.js";
import { IpaasError } from "./errors.js";

export = Object.assign(ipaas, { ipaas, default: ipaas, IpaasError });
