/**
 * delta-waypoint: refine a frozen SFT waypoint planner with a PPO-trained residual
 * delta head. This file only dispatches to the commands in `src/cli/`.
 *
 * @module
 */

import { runTrain } from "./src/cli/train.ts";
import { UserError } from "./src/math/errors.ts";

const COMMANDS: Record<string, { run: (args: string[]) => Promise<number>; about: string }> = {
  train: { run: runTrain, about: "PPO refinement of a frozen SFT planner (the main job)" },
};

function usage(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((c) => c.length));
  return [
    "Usage: delta-waypoint <command> [flags]   (--help on any command)",
    "",
    "Commands:",
    ...Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(width)}  ${c.about}`),
  ].join("\n");
}

/**
 * Runs the command line `args` and returns the exit code; errors from bad input are
 * printed as one line on stderr.
 *
 * @example
 * ```ts ignore
 * Deno.exit(await main(["train", "--episodes", "10"]));
 * ```
 */
export async function main(args: string[]): Promise<number> {
  const [name, ...rest] = args;
  if (name === undefined || name === "--help" || name === "-h" || name === "help") {
    console.log(usage());
    return name === undefined ? 2 : 0;
  }
  const command = COMMANDS[name];
  if (!command) {
    console.error(
      `error: unknown command '${name}' (commands: ${Object.keys(COMMANDS).join(", ")})`,
    );
    return 2;
  }
  try {
    return await command.run(rest);
  } catch (e) {
    if (e instanceof UserError) {
      console.error(`error: ${e.message}`);
      return e.exitCode;
    }
    if (e instanceof Deno.errors.PermissionDenied) {
      console.error(`error: ${e.message.split("\n")[0]}`);
      return 2;
    }
    throw e;
  }
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
