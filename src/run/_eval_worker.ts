/**
 * The Worker side of {@linkcode ParallelEvaluator}: builds the env factory and the
 * planner once (`init`), then rolls out the seeds of each `eval` request with a copy of
 * the weights and posts the episode records back.
 *
 * @module
 */

import { builtinEnv, loadEnvModule } from "../env/mod.ts";
import type { EnvDefinition, VecEnv } from "../env/mod.ts";
import type { ActorCritic } from "../nn/mod.ts";
import { plannerFromSpec } from "../sft/mod.ts";
import { evaluatePolicy } from "./evaluate.ts";
import type { BasePlanner } from "../sft/mod.ts";
import { modelFromSpec } from "./parallel_eval.ts";
import type { EvalWorkerReply, EvalWorkerRequest } from "./parallel_eval.ts";

// The Worker's global scope, as far as this module uses it.
const scope = globalThis as unknown as {
  onmessage: ((e: MessageEvent<EvalWorkerRequest>) => void) | null;
  postMessage(reply: EvalWorkerReply): void;
};

let setup: {
  makeEnv: (numEnvs: number) => VecEnv;
  planner: BasePlanner;
} | null = null;
let model: ActorCritic | undefined;

scope.onmessage = async (e) => {
  const req = e.data;
  try {
    if (req.type === "init") {
      const { env, planner } = req;
      // the module the main thread imported on the command line's word
      const definition: EnvDefinition | undefined = env.module === null
        ? builtinEnv(env.id)
        : await loadEnvModule(env.module);
      if (!definition) throw new Error(`no env ${env.id}`);
      const { settings } = env;
      setup = {
        makeEnv: (n) => definition.make(settings, n),
        planner: plannerFromSpec(planner, { definition, settings }),
      };
      scope.postMessage({ type: "ready" });
      return;
    }
    if (setup === null) throw new Error("evaluation before init");
    if (req.model !== null) model = modelFromSpec(req.model, model);
    const { scenarios } = evaluatePolicy({
      planner: setup.planner,
      model: req.model === null ? null : model!,
      deltaClip: req.deltaClip,
      firstSeed: req.firstSeed,
      count: req.count,
      makeEnv: setup.makeEnv,
    });
    scope.postMessage({ type: "records", id: req.id, scenarios });
  } catch (err) {
    const error = err instanceof Error ? err.message : String(err);
    scope.postMessage({ type: "error", id: req.type === "init" ? null : req.id, error });
  }
};
