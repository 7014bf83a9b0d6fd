/**
 * The Worker side of {@linkcode ParallelEvaluator}: builds the env factory and the
 * planner once (`init`), then rolls out the seeds of each `eval` request with a copy of
 * the weights and posts the episode records back.
 *
 * @module
 */

import { vecEnvFactory } from "../env/mod.ts";
import type { VecEnv } from "../env/mod.ts";
import type { ActorCritic } from "../nn/mod.ts";
import { plannerFromSpec } from "../sft/mod.ts";
import { evaluatePolicy } from "./evaluate.ts";
import type { BasePlanner, WaypointPlanner } from "../sft/mod.ts";
import { modelFromSpec } from "./parallel_eval.ts";
import type { EvalWorkerReply, EvalWorkerRequest } from "./parallel_eval.ts";

// The Worker's global scope, as far as this module uses it.
const scope = globalThis as unknown as {
  onmessage: ((e: MessageEvent<EvalWorkerRequest>) => void) | null;
  postMessage(reply: EvalWorkerReply): void;
};

let setup: {
  env: Extract<EvalWorkerRequest, { type: "init" }>["env"];
  makeEnv: (numEnvs: number) => VecEnv;
  planner: BasePlanner | WaypointPlanner;
} | null = null;
let model: ActorCritic | undefined;

scope.onmessage = (e) => {
  const req = e.data;
  try {
    if (req.type === "init") {
      const { env, planner } = req;
      setup = {
        env,
        makeEnv: vecEnvFactory(env.name, env.config, env.traffic ? { traffic: env.traffic } : {}),
        planner: plannerFromSpec(planner, env.config),
      };
      scope.postMessage({ type: "ready" });
      return;
    }
    if (setup === null) throw new Error("evaluation before init");
    if (req.model !== null) model = modelFromSpec(req.model, model);
    const { scenarios } = evaluatePolicy({
      env: setup.env.config,
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
