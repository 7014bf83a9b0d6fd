/**
 * `export --policy PATH.pt --onnx FILE`: a trained policy as an ONNX model, from the
 * observation to the plan the car drives (SFT planner + clipped mean delta), or the
 * delta head alone (`--delta-only`). The checkpoint is read and checked as `eval` reads
 * it, with the base planner `eval` would use; the file is written atomically, and bad
 * input writes nothing.
 *
 * @module
 */

import { dirname, resolve } from "node:path";
import { firstLine, UserError } from "../errors.ts";
import type { EnvDefinition } from "../env/mod.ts";
import { encodeOnnxModel, writeFileAtomic } from "../io/mod.ts";
import {
  checkpointEnvName,
  checkpointObsRms,
  checkpointPpoConfig,
  checkpointSettings,
  modelFromCheckpoint,
  readTrainerCheckpoint,
  runBasePlanner,
} from "../run/mod.ts";
import type { LoadedCheckpoint } from "../run/mod.ts";
import { ZeroPlanner } from "../sft/mod.ts";
import { POLICY_IO, POLICY_OPSET, policyOnnx } from "../sft/mod.ts";
import type { BasePlanner, PolicyToExport } from "../sft/mod.ts";
import { parseFlags } from "./_flags.ts";
import { chooseEnv, ENV_CHOICE_OPTIONS, envChoiceHelp, peekEnvFlags } from "./_env_choice.ts";

const OPTIONS = {
  policy: { type: "string" },
  onnx: { type: "string" },
  "sft-model": { type: "string" },
  "delta-only": { type: "boolean" },
  dtype: { type: "string" },
  overwrite: { type: "boolean" },
  help: { type: "boolean", short: "h" },
  ...ENV_CHOICE_OPTIONS,
} as const;

/**
 * `export --help`.
 *
 * @example
 * ```ts
 * console.log(exportHelp());
 * ```
 */
export function exportHelp(): string {
  const io = POLICY_IO;
  return [
    "Usage: delta-waypoint export --policy PATH.pt --onnx FILE [flags]",
    "",
    `Write a checkpoint's policy as an ONNX model (opset ${POLICY_OPSET}, batch dimension symbolic),`,
    "the mean action as eval takes it:",
    `  MLP planner (an sft file)  ${io.observation} -> ${io.finalWaypoints} (B, H, 2) = planner(${io.observation}) + clip(delta, ±delta_clip)`,
    `  the env's own planner      ${io.observation}, ${io.sftWaypoints} (B, H, 2) -> ${io.finalWaypoints} (B, H, 2)`,
    `  no base planner            ${io.observation} -> ${io.finalActions} (B, action) = clip(delta, ±delta_clip)`,
    `  --delta-only               ${io.observation} -> ${io.delta} (B, H, 2) = clip(delta, ±delta_clip)`,
    "z is the raw observation; a checkpoint's obs_rms normaliser is part of the graph.",
    "",
    "Flags:",
    "  --policy PATH.pt       training checkpoint (final.pt, best.pt, checkpoints/checkpoint_N.pt)",
    "  --onnx FILE            the model to write",
    "  --sft-model PATH       SFT planner file (default: the one the run refined, else the env's planner)",
    "  --delta-only           the delta head alone",
    "  --dtype TYPE           float64 (default: computes what this program computes, to 1e-13) or",
    "                         float32 (for runtimes without doubles; differs by float32 rounding:",
    "                         about 1e-5 m on waypoints 80 m ahead)",
    "  --overwrite            replace an existing FILE",
    ...envChoiceHelp(),
    "  -h, --help             this help",
  ].join("\n");
}

/**
 * Runs `export`; returns the exit code.
 *
 * @example
 * ```ts ignore
 * await runExport(["--policy", "out/run/final.pt", "--onnx", "policy.onnx"]);
 * ```
 */
export async function runExport(args: string[]): Promise<number> {
  const { values, positionals } = parseFlags("export", args, OPTIONS, true);
  if (values.help) {
    console.log(exportHelp());
    return 0;
  }
  if (positionals.length > 0) {
    throw new UserError(`export: unexpected argument '${positionals[0]}' (see --help)`);
  }
  const policyPath = values.policy as string | undefined;
  const onnxPath = values.onnx as string | undefined;
  if (policyPath === undefined) throw new UserError("export: --policy PATH.pt is required");
  if (onnxPath === undefined) throw new UserError("export: --onnx FILE is required");
  const dtype = values.dtype ?? "float64";
  if (dtype !== "float32" && dtype !== "float64") {
    throw new UserError(`--dtype: expected float32 or float64, got '${dtype}'`);
  }
  const deltaOnly = values["delta-only"] === true;
  const sftFlag = values["sft-model"] as string | undefined;
  if (deltaOnly && sftFlag !== undefined) {
    throw new UserError("--delta-only exports the delta head alone: --sft-model does not apply");
  }
  const ckpt = await readTrainerCheckpoint(policyPath);
  const recorded = { name: checkpointEnvName(ckpt), where: `--policy ${policyPath}` };
  const { definition } = await chooseEnv(peekEnvFlags(args), recorded);
  const policy = await policyToExport(ckpt, { definition, sftModel: sftFlag, deltaOnly });
  checkOutputPath(onnxPath, {
    overwrite: values.overwrite === true,
    reads: [policyPath, policy.plannerFile],
  });
  const model = policyOnnx(policy, { dtype, deltaOnly, producerVersion: "1" });
  await writeFileAtomic(onnxPath, encodeOnnxModel(model));
  const shapes = (list: typeof model.graph.inputs) =>
    list.map((v) =>
      `${v.name} (${v.shape.map((d) => (typeof d === "string" ? "B" : d)).join(", ")})`
    )
      .join(", ");
  console.log(
    `wrote ${onnxPath}: ${shapes(model.graph.inputs)} -> ${shapes(model.graph.outputs)}; ` +
      `opset ${POLICY_OPSET}, ${dtype}, delta_clip ${policy.deltaClip}` +
      (policy.obsRms ? ", obs_rms in the graph" : "") +
      (policy.plannerFile && !deltaOnly ? `, planner ${policy.plannerFile}` : ""),
  );
  return 0;
}

// The output must be a new file, or a regular one to replace that is none of the files
// the export `reads`, in an existing folder.
function checkOutputPath(
  path: string,
  opts: { overwrite: boolean; reads: (string | null)[] },
): void {
  const flag = `--onnx ${path}`;
  let info: Deno.FileInfo | null = null;
  try {
    info = Deno.statSync(path);
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw new UserError(`${flag}: ${firstLine(e)}`);
  }
  if (info !== null) {
    if (info.isDirectory) throw new UserError(`${flag}: is a folder`);
    if (!info.isFile) throw new UserError(`${flag}: not a regular file`);
    if (!opts.overwrite) throw new UserError(`${flag}: exists; pass --overwrite to replace it`);
    const same = (other: string) => {
      const o = Deno.statSync(other);
      return o.dev === info!.dev && o.ino === info!.ino;
    };
    const input = opts.reads.find((p) => p !== null && same(p));
    if (input) throw new UserError(`${flag}: is the file ${input} the export reads`);
  }
  const folder = dirname(resolve(path));
  let parent: Deno.FileInfo;
  try {
    parent = Deno.statSync(folder);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      throw new UserError(`${flag}: the folder ${folder} does not exist`);
    }
    throw new UserError(`${flag}: ${firstLine(e)}`);
  }
  if (!parent.isDirectory) throw new UserError(`${flag}: ${folder} is not a folder`);
}

// The checkpoint's policy and the base planner eval would give it, checked as eval checks.
async function policyToExport(
  ckpt: LoadedCheckpoint,
  opts: { definition: EnvDefinition; sftModel: string | undefined; deltaOnly: boolean },
): Promise<PolicyToExport> {
  const { definition } = opts;
  const settings = checkpointSettings(ckpt, definition);
  const env = { definition, settings };
  const deltaClip = checkpointPpoConfig(ckpt, env).delta_clip;
  const probe = definition.make(settings, 1);
  if (!definition.plannerFile && opts.sftModel !== undefined) {
    throw new UserError(`--sft-model: the ${definition.id} run refines no planner file`);
  }
  const model = modelFromCheckpoint(ckpt, probe.obsDim, {
    actionShape: probe.actionShape ?? [probe.actionDim],
  });
  const recorded = typeof ckpt.extra.sft_model === "string" ? ckpt.extra.sft_model : null;
  const plannerFile = definition.plannerFile && !opts.deltaOnly ? opts.sftModel ?? recorded : null;
  let planner: BasePlanner = new ZeroPlanner(probe);
  if (!opts.deltaOnly) {
    try {
      planner = await runBasePlanner(env, { sftModel: plannerFile, probe });
    } catch (e) {
      if (!(e instanceof UserError) || opts.sftModel !== undefined || plannerFile === null) throw e;
      throw new UserError(
        `${ckpt.source}: the run's SFT planner (sft_model in the checkpoint) cannot be used: ${e.message}; pass --sft-model`,
      );
    }
  }
  return {
    source: ckpt.source,
    model,
    planner,
    plannerFile,
    deltaClip,
    obsRms: checkpointObsRms(ckpt, probe.obsDim),
    observationDoc: definition.observationDoc?.(settings, probe.obsDim) ??
      `the ${definition.id} observation (${probe.obsDim})`,
    metadata: {
      env_name: definition.id,
      ...(ckpt.episode !== null ? { episode: String(ckpt.episode) } : {}),
    },
  };
}
