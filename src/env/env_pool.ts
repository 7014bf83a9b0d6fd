/**
 * The envs one command makes of an env and its settings, kept so they can be closed
 * together at its end (the Gymnasium bridge's workers, a module env's own resources):
 * on success, on a stop, and on an error.
 *
 * @module
 */

import type { VecEnv } from "./contract.ts";
import type { EnvDefinition, EnvSettings } from "./definition.ts";

/**
 * Makes N-env vector envs of one env and settings, and closes all it made.
 *
 * @example
 * ```ts ignore
 * const pool = new EnvPool(definition, settings);
 * try {
 *   const env = pool.make(8);
 * } finally {
 *   await pool.close();
 * }
 * ```
 */
export class EnvPool {
  /** The env. */
  readonly definition: EnvDefinition;
  /** Its checked settings. */
  readonly settings: EnvSettings;
  /** `definition.make(settings, numEnvs)`, kept for `close`. */
  readonly make: (numEnvs: number) => VecEnv;
  readonly #made: VecEnv[] = [];

  /** A pool of `definition` with `settings` (checked). */
  constructor(definition: EnvDefinition, settings: EnvSettings) {
    this.definition = definition;
    this.settings = settings;
    this.make = (numEnvs) => {
      const env = definition.make(settings, numEnvs);
      if (env.close) this.#made.push(env);
      return env;
    };
  }

  /** Closes every env made that holds something to close; never throws. */
  async close(): Promise<void> {
    const made = this.#made.splice(0);
    for (const env of made) {
      try {
        await env.close?.();
      } catch {
        // closing is best effort: the process ends anyway
      }
    }
  }
}
