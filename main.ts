/**
 * delta-waypoint: refine a frozen SFT waypoint planner with a PPO-trained residual
 * delta head. This file only dispatches to the commands in `src/cli/`.
 *
 * @module
 */

import { runTrain } from "./src/cli/train.ts";
import { runReport } from "./src/cli/report.ts";
import { runInspect } from "./src/cli/inspect.ts";
import { runEval } from "./src/cli/eval.ts";
import { runSft } from "./src/cli/sft.ts";
import { runAggregate } from "./src/cli/aggregate.ts";
import { runScenarios } from "./src/cli/scenarios.ts";
import { runExport } from "./src/cli/export.ts";
import { reportError } from "./src/errors.ts";

const COMMANDS: Record<string, { run: (args: string[]) => Promise<number>; about: string }> = {
  train: { run: runTrain, about: "PPO refinement of a frozen SFT planner (the main job)" },
  eval: {
    run: runEval,
    about: "roll out checkpoints, the SFT planner or the expert on seeded episodes, side by side",
  },
  sft: { run: runSft, about: "behaviour cloning of an MLP waypoint planner (the SFT stage)" },
  inspect: {
    run: runInspect,
    about: "print what a checkpoint holds: keys, tensor shapes and dtypes, config",
  },
  report: { run: runReport, about: "draw a run's learning curves as SVG and HTML" },
  aggregate: { run: runAggregate, about: "summarise a multi-seed folder across its seeds" },
  scenarios: {
    run: runScenarios,
    about: "write a scenario set: seeded traffic, or from logged episodes",
  },
  export: {
    run: runExport,
    about: "write a checkpoint's policy as an ONNX model (SFT planner + clipped mean delta)",
  },
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
 * Runs the command line `args` and returns the exit code; every error is printed as
 * one line on stderr (see `reportError`), never as a stack trace.
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
    return reportError(e);
  }
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
