import type { Db } from "@ipaas/db";
import { otpSettingsOf } from "@ipaas/domain";
import { findAppOrigins, findOtpOrganization } from "../../repositories/organization-credentials";

/** How long the set of every organization's app origins is reused before it is read again. */
const REFRESH_MS = 60_000;

/**
 * The web origins organizations allow to call the profile API from a browser. A preflight carries no
 * token, so it is answered for an origin any active organization lists; the answer to the request itself
 * allows the origin only when the caller's own organization lists it.
 */
export class AppOrigins {
  #known: Set<string> = new Set();
  #readAt = 0;
  #reading: Promise<void> | null = null;

  constructor(
    private readonly db: Db,
    private readonly now: () => number = Date.now,
  ) {}

  /** Whether some active organization lists `origin` (read at most once a minute). */
  async anyAllows(origin: string): Promise<boolean> {
    if (this.now() - this.#readAt > REFRESH_MS) {
      this.#reading ??= findAppOrigins(this.db)
        .then((origins) => {
          this.#known = new Set(origins);
          this.#readAt = this.now();
        })
        .finally(() => {
          this.#reading = null;
        });
      await this.#reading;
    }
    return this.#known.has(origin);
  }

  /** Whether the organization lists `origin`. */
  async organizationAllows(organizationId: string, origin: string): Promise<boolean> {
    const organization = await findOtpOrganization(this.db, organizationId);
    return organization !== null && otpSettingsOf(organization).appOrigins.includes(origin);
  }
}
