/**
 * The command that continues a stopped run, as `train` prints it at a stop and when a
 * folder already holds a stopped run: this program's `train --resume CHECKPOINT`, plus
 * the env flags a checkpoint cannot stand for (a module's path, a Gymnasium env's id
 * and flags: files never choose the env).
 *
 * @module
 */

import type { EnvChoice } from "../env/mod.ts";
import { shellQuote } from "../sweep/mod.ts";

/**
 * A function of the checkpoint giving the shell command that continues the run
 * (`deno task train --resume ...`, or the executable itself when compiled).
 *
 * @example
 * ```ts ignore
 * resumeCommand(env, values)("out/run/checkpoints/checkpoint_50.pt");
 * // "deno task train --resume out/run/checkpoints/checkpoint_50.pt"
 * ```
 */
export function resumeCommand(
  env: EnvChoice,
  values: Record<string, unknown>,
): (checkpoint: string) => string {
  const program = Deno.build.standalone ? [Deno.execPath(), "train"] : ["deno", "task", "train"];
  const envFlags = env.kind === "builtin" ? [] : ["--env", env.spec];
  if (env.kind === "gym") {
    for (const flag of ["gym-python", "gym-module", "gym-kwargs"]) {
      const given = values[flag];
      for (const value of Array.isArray(given) ? given : given === undefined ? [] : [given]) {
        envFlags.push(`--${flag}`, String(value));
      }
    }
  }
  return (checkpoint) =>
    [...program, "--resume", checkpoint, ...envFlags].map(shellQuote).join(" ");
}
