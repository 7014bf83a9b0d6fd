/**
 * Held-out evaluations on both cores (`train --eval-worker`): a Worker
 * (`_eval_worker.ts`) rolls out the second half of an evaluation's seeds on a copy of
 * the weights while this thread rolls out the first half, and the episode records are
 * joined in seed order and summarised as {@linkcode evaluatePolicy} does. An episode's
 * record depends only on its seed and the weights (envs are independent, and a row's
 * plan and delta do not depend on the other rows of the batch), so the result is the
 * one-thread result, bit for bit.
 *
 * Evaluations the Worker cannot rebuild (another env factory or planner, a planner
 * without a {@linkcode PlannerSpec}, sampled deltas) run on this thread, and so do
 * those asked for before the Worker has loaded, or after it failed: the same result,
 * later.
 *
 * @module
 */

import { fileURLToPath } from "node:url";
import { Rng } from "../math/mod.ts";
import { ActorCritic, ObsNormalizer } from "../nn/mod.ts";
import type { ObsRms } from "../nn/mod.ts";
import { plannerSpec } from "../sft/mod.ts";
import { evaluatePolicy, evaluatePolicySteps } from "./evaluate.ts";
import { summarize } from "./episode_records.ts";
import type { BasePlanner, PlannerSpec } from "../sft/mod.ts";
import type { EvaluateOptions } from "./evaluate.ts";
import type { EpisodeRecord, EvalResult } from "./episode_records.ts";
import type { EnvSettings, EpisodeMetric, VecEnv } from "../env/mod.ts";
import { runUntil } from "../event_loop.ts";

/**
 * The env an evaluation runs in, as data: a built-in env's id, or the module the command
 * line named (`--env ./my_env.ts`), and the run's settings of it.
 */
export interface EvalEnvSpec {
  /** The env's id. */
  id: string;
  /** The module to import for it (`--env` as given), or null for a built-in env. */
  module: string | null;
  /** The run's sections of that env. */
  settings: EnvSettings;
}

/** The delta (and value) head as data: its sizes and a copy of its weights. */
export interface ModelSpec {
  inDim: number;
  hidden: number;
  actionShape: number[];
  inputScale: Float64Array | null;
  valueScale: number;
  /** `model.delta.data` */
  delta: Float64Array;
  /** `model.value.data` */
  value: Float64Array;
  /** The running observation normaliser's numbers (a copy), or null. */
  obsRms: ObsRms | null;
}

/** Messages to the Worker. */
export type EvalWorkerRequest =
  | { type: "init"; env: EvalEnvSpec; planner: PlannerSpec }
  | {
    type: "eval";
    id: number;
    model: ModelSpec | null;
    deltaClip: number;
    firstSeed: number;
    count: number;
  };

/** Messages from the Worker: loaded, an evaluation's records, or why it failed. */
export type EvalWorkerReply =
  | { type: "ready" }
  | { type: "records"; id: number; scenarios: EpisodeRecord[] }
  | { type: "error"; id: number | null; error: string };

/**
 * A copy of `model` as data.
 *
 * @example
 * ```ts
 * import { ActorCritic } from "../nn/mod.ts";
 * import { Rng } from "../math/mod.ts";
 * const spec = modelSpec(new ActorCritic({ inDim: 3, hidden: 4, horizon: 2, rng: new Rng(1) }));
 * modelFromSpec(spec).delta.data; // the same numbers
 * ```
 */
export function modelSpec(model: ActorCritic): ModelSpec {
  return {
    inDim: model.inDim,
    hidden: model.hidden,
    actionShape: [...model.actionShape],
    inputScale: model.inputScale === null ? null : model.inputScale.slice(),
    valueScale: model.valueScale,
    delta: model.delta.data.slice(),
    value: model.value.data.slice(),
    obsRms: model.obsNorm === null ? null : {
      ...model.obsNorm.state(),
      epsilon: model.obsNorm.epsilon,
      clip: model.obsNorm.clip,
    },
  };
}

/**
 * The model `spec` describes, weights copied in; `reuse` (a model of the same sizes and
 * scales) is filled instead of building a new one.
 *
 * @example
 * ```ts ignore
 * const model = modelFromSpec(spec);
 * ```
 */
export function modelFromSpec(spec: ModelSpec, reuse?: ActorCritic): ActorCritic {
  const model = reuse !== undefined && sameShape(reuse, spec) ? reuse : new ActorCritic({
    inDim: spec.inDim,
    hidden: spec.hidden,
    actionShape: spec.actionShape,
    inputScale: spec.inputScale ?? undefined,
    valueScale: spec.valueScale,
    rng: new Rng(0),
    ...(spec.obsRms ? { obsNorm: ObsNormalizer.from(spec.obsRms) } : {}),
  });
  if (model.delta.data.length !== spec.delta.length) {
    throw new RangeError("modelFromSpec: the delta weights do not match the sizes");
  }
  if (model.value.data.length !== spec.value.length) {
    throw new RangeError("modelFromSpec: the value weights do not match the sizes");
  }
  model.delta.data.set(spec.delta);
  model.value.data.set(spec.value);
  if (spec.obsRms) model.obsNorm!.setState(spec.obsRms);
  return model;
}

function sameShape(model: ActorCritic, spec: ModelSpec): boolean {
  const scale = model.inputScale, want = spec.inputScale;
  const norm = model.obsNorm, rms = spec.obsRms;
  return model.inDim === spec.inDim && model.hidden === spec.hidden &&
    model.valueScale === spec.valueScale &&
    (norm === null
      ? rms === null
      : rms !== null && norm.epsilon === rms.epsilon && norm.clip === rms.clip) &&
    model.actionShape.join() === spec.actionShape.join() &&
    (scale === null ? want === null : want !== null && scale.join() === want.join());
}

/** What {@linkcode ParallelEvaluator} evaluates: one env and one planner. */
export interface ParallelEvaluatorOptions {
  /** The env as data, for the Worker. */
  env: EvalEnvSpec;
  /** The env factory of this thread's evaluations (`trainer.makeEnv`). */
  makeEnv: (numEnvs: number) => VecEnv;
  /** The base planner evaluated (`trainer.planner`). */
  planner: BasePlanner;
  /** The Worker's module (default `_eval_worker.ts` beside this one). */
  workerUrl?: string;
  /** Why the Worker cannot take this env (no Worker is started), if it cannot. */
  unavailable?: string;
}

/**
 * Splits evaluations of one env and planner between this thread and one Worker;
 * {@linkcode ParallelEvaluator.close} ends the Worker. Start it early: the Worker loads
 * while training runs, and until it is ready every evaluation runs here.
 *
 * @example
 * ```ts ignore
 * const evaluator = new ParallelEvaluator({ env: { id: "driving", module: null, settings }, makeEnv, planner });
 * try {
 *   const result = await evaluator.evaluate(opts, { shouldStop: () => false });
 * } finally {
 *   evaluator.close();
 * }
 * ```
 */
export class ParallelEvaluator {
  /** Episodes the Worker has rolled out (for tests and diagnostics). */
  workerEpisodes = 0;
  readonly #makeEnv: (numEnvs: number) => VecEnv;
  readonly #planner: BasePlanner;
  #worker: Worker | null = null;
  #failure: string | null = null;
  #metrics: readonly EpisodeMetric[] | null = null;
  #ready = false;
  #nextId = 0;
  readonly #pending = new Map<number, (reply: EvalWorkerReply) => void>();

  /** Starts the Worker (none when the planner has no spec or Workers are not available). */
  constructor(opts: ParallelEvaluatorOptions) {
    this.#makeEnv = opts.makeEnv;
    this.#planner = opts.planner;
    if (opts.unavailable !== undefined) {
      this.#failure = opts.unavailable;
      return;
    }
    const planner = plannerSpec(opts.planner);
    if (planner === null) {
      this.#failure = `the base planner (${opts.planner.constructor.name}) cannot be rebuilt there`;
      return;
    }
    const url = opts.workerUrl ?? new URL("./_eval_worker.ts", import.meta.url).href;
    const unreadable = unreadableModule(url);
    if (unreadable !== null) {
      this.#failure = `no read access to ${unreadable}`;
      return;
    }
    try {
      this.#worker = new Worker(url, { type: "module" });
    } catch (e) {
      this.#failure = e instanceof Error ? e.message : String(e);
      return; // no Workers here: every evaluation runs on this thread
    }
    this.#worker.onmessage = (e: MessageEvent<EvalWorkerReply>) => this.#receive(e.data);
    this.#worker.onerror = (e: ErrorEvent) => {
      e.preventDefault();
      this.#fail(e.message);
    };
    const init: EvalWorkerRequest = { type: "init", env: opts.env, planner };
    this.#worker.postMessage(init);
  }

  /**
   * Why there is no Worker (it could not start, or failed), or null: the evaluations
   * then all run on this thread, with the same results.
   */
  get failure(): string | null {
    return this.#failure;
  }

  /** Whether the Worker has loaded and takes evaluations. */
  get ready(): boolean {
    return this.#worker !== null && this.#ready;
  }

  /**
   * {@linkcode evaluatePolicySteps}'s result, the second half of the seeds rolled out by
   * the Worker when it can; null when `until.shouldStop()` says so at one of this
   * thread's turns of the event loop (about every `until.yieldMs`, default 200 ms).
   */
  async evaluate(
    opts: EvaluateOptions,
    until: { shouldStop: () => boolean; yieldMs?: number },
  ): Promise<EvalResult | null> {
    const { shouldStop, yieldMs } = until;
    if (!this.#splits(opts)) return await runUntil(evaluatePolicySteps(opts), shouldStop, yieldMs);
    const mine = Math.ceil(opts.count / 2);
    const theirs = { firstSeed: opts.firstSeed + mine, count: opts.count - mine };
    const model = opts.model === null ? null : modelSpec(opts.model);
    const reply = this.#request(model, opts.deltaClip, theirs);
    const first = await runUntil(
      evaluatePolicySteps({ ...opts, count: mine }),
      shouldStop,
      yieldMs,
    );
    if (first === null) return null; // the Worker's reply is dropped when it comes
    let second = await reply;
    if (second === null) {
      const rest = await runUntil(evaluatePolicySteps({ ...opts, ...theirs }), shouldStop, yieldMs);
      if (rest === null) return null;
      second = rest.scenarios;
    }
    const scenarios = [...first.scenarios, ...second];
    return { scenarios, summary: summarize(scenarios, first.metrics), metrics: first.metrics };
  }

  /**
   * Starts {@linkcode evaluatePolicy} of `opts` in the Worker, with a copy of the
   * weights as they are now, and returns at once; the promise resolves with the result.
   * What the Worker cannot take runs here, before this returns (and so does the rest of
   * one the Worker fails). Evaluations resolve in the order they were started.
   */
  start(opts: EvaluateOptions): Promise<EvalResult> {
    if (!this.#splits(opts)) return Promise.resolve(evaluatePolicy(opts));
    const { firstSeed, count } = opts;
    // a copy now: the caller's model trains on
    const model = opts.model === null ? null : modelSpec(opts.model);
    const reply = this.#request(model, opts.deltaClip, { firstSeed, count });
    return reply.then((scenarios) => {
      if (scenarios === null) {
        return evaluatePolicy({ ...opts, model: model === null ? null : modelFromSpec(model) });
      }
      const metrics = this.#metrics ??= this.#makeEnv(1).metrics ?? [];
      return { scenarios, summary: summarize(scenarios, metrics), metrics };
    });
  }

  /** Ends the Worker; evaluations still waiting for it finish on this thread. */
  close(): void {
    this.#stop("closed");
  }

  // Posts the seeds to the Worker; its records of them, or null when it did not give
  // them (it failed, or was closed): the caller rolls them out itself.
  async #request(
    model: ModelSpec | null,
    deltaClip: number,
    seeds: { firstSeed: number; count: number },
  ): Promise<EpisodeRecord[] | null> {
    const id = this.#nextId++;
    const reply = new Promise<EvalWorkerReply>((resolve) => this.#pending.set(id, resolve));
    const request: EvalWorkerRequest = {
      type: "eval",
      id,
      model,
      deltaClip,
      ...seeds,
    };
    this.#worker!.postMessage(request);
    const answer = await reply;
    if (answer.type !== "records" || answer.scenarios.length !== seeds.count) return null;
    this.workerEpisodes += seeds.count;
    return answer.scenarios;
  }

  #splits(opts: EvaluateOptions): boolean {
    return this.ready && opts.count >= 2 && opts.sampleRng === undefined &&
      opts.makeEnv === this.#makeEnv && opts.planner === this.#planner;
  }

  #receive(reply: EvalWorkerReply): void {
    if (reply.type === "ready") {
      this.#ready = true;
      return;
    }
    if (reply.type === "error" && reply.id === null) {
      this.#fail(reply.error); // the Worker could not build the env or the planner
      return;
    }
    const id = reply.id!;
    const resolve = this.#pending.get(id);
    this.#pending.delete(id);
    resolve?.(reply);
  }

  #fail(error: string): void {
    this.#failure ??= error;
    this.#stop(error);
  }

  // Ends the Worker; what waits for it gets `error` (and is rolled out here instead).
  #stop(error: string): void {
    this.#worker?.terminate();
    this.#worker = null;
    this.#ready = false;
    for (const [id, resolve] of this.#pending) resolve({ type: "error", id, error });
    this.#pending.clear();
  }
}

// The path of a local module this process may not read (a Worker could not load it), or
// null. A compiled executable holds its modules: nothing to check there.
function unreadableModule(url: string): string | null {
  if (Deno.build.standalone || !url.startsWith("file:")) return null;
  const path = fileURLToPath(url);
  try {
    return Deno.permissions.querySync({ name: "read", path }).state === "granted" ? null : path;
  } catch {
    return path;
  }
}
