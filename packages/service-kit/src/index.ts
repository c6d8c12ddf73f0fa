export { digestsEqual, MasterKey, randomToken, sha256Hex } from "./crypto";
export { type IdPrefix, newId } from "./ids";
