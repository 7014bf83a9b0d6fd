/**
 * The end of a training run once its schedule returned: a checkpoint of where it stopped,
 * or `final.pt`, the held-out evaluation, `train_metrics.json` and the recorded episodes.
 *
 * @module
 */

import { join } from "node:path";
import { EXIT } from "../errors.ts";
import { EnvLostError } from "../env/mod.ts";
import { runPaths, writeJson } from "../io/mod.ts";
import { EPISODES_FILE, recordEpisodes } from "./episodes_file.ts";
import type { EvalResult } from "./episode_records.ts";
import { heldoutEvaluation } from "./heldout.ts";
import type { ParallelEvaluator } from "./parallel_eval.ts";
import type { RunWriter } from "./_run_writer.ts";
import { resumeCommand } from "./_run_folder.ts";
import type { LoopOutcome } from "./schedule.ts";
import { trainMetrics } from "./train_metrics.ts";
import type { TrainMetricsOptions } from "./train_metrics.ts";
import type { InFolder } from "./training_request.ts";

/**
 * The end of the run in `f` once the schedule returned: stopped, a checkpoint of where it
 * is; else final.pt, the held-out evaluation and train_metrics.json. Returns the exit code.
 *
 * @example
 * ```ts ignore
 * return await closeRun(f, { writer, outcome, summary, evaluate, evaluator });
 * ```
 */
export async function closeRun(f: InFolder, opts: {
  writer: RunWriter;
  outcome: LoopOutcome;
  summary: Omit<TrainMetricsOptions, "heldout" | "interrupted">;
  evaluate: ParallelEvaluator["evaluate"] | undefined;
  evaluator: ParallelEvaluator | null;
}): Promise<number> {
  const { request: { run }, trainer, stop, log } = f;
  const paths = f.folder.paths;
  // where the files will be once a replacing run is in place, for messages
  const shown = runPaths(run.out_dir);
  const { writer, outcome, summary, evaluator } = opts;
  const interrupted = { ...summary, heldout: null, interrupted: true };
  if (outcome.stopped) {
    const path = paths.checkpoint(trainer.episode);
    await writer.checkpoint(trainer, path);
    await writer.writeMetrics();
    await writeJson(paths.trainMetrics, trainMetrics(run, interrupted));
    const note = outcome.dropped ? " (the iteration in progress was dropped)" : "";
    console.error(
      `train: interrupted at episode ${trainer.episode}${note}; saved ${
        shown.checkpoint(trainer.episode)
      }`,
    );
    console.error(
      `train: continue with \`${resumeCommand(f.request, shown.checkpoint(trainer.episode))}\``,
    );
    if (outcome.lost) throw outcome.lost; // exit 4, with the worker's last stderr line
    return stop.code ?? EXIT.sigint;
  }
  await writer.save(trainer, paths.final);
  await writer.writeMetrics();
  const shouldStop = () => stop.code !== null;
  const kept: { results?: { sft: EvalResult; refined: EvalResult } } = {};
  const onResults = (results: typeof kept.results) => (kept.results = results);
  const heldout = await heldoutEvaluation(trainer, {
    shouldStop,
    evaluate: opts.evaluate,
    onResults,
  })
    .catch(envLost);
  if (heldout instanceof EnvLostError) {
    await writeJson(paths.trainMetrics, trainMetrics(run, interrupted));
    console.error(`train: the env was lost in the held-out evaluation; ${shown.final} is complete`);
    throw heldout;
  }
  if (heldout === null) {
    // final.pt and metrics.json are complete; only the closing evaluation is missing
    await writeJson(paths.trainMetrics, trainMetrics(run, interrupted));
    console.error(
      `train: interrupted during the held-out evaluation; ${shown.final} is complete`,
    );
    console.error(`train: continue with \`${resumeCommand(f.request, shown.final)}\``);
    return stop.code ?? EXIT.sigint;
  }
  await writeJson(
    paths.trainMetrics,
    trainMetrics(run, { ...summary, heldout, interrupted: false }),
  );
  // a few held-out episodes drawn again (not for the Gymnasium bridge's: a worker each)
  await recordEpisodes(trainer, {
    results: kept.results!,
    firstSeed: heldout.seeds[0],
    env: f.request.env.kind === "gym" ? null : trainer.makeEnv(1),
    path: join(paths.dir, EPISODES_FILE),
  });
  f.request.printHeldout(heldout, {
    metrics: trainer.episodeMetrics,
    base: f.runLog.base,
    hasSuccess: f.hasSuccess,
  });
  if (evaluator) log(`train: the eval Worker rolled out ${evaluator.workerEpisodes} episodes`);
  log(`train: done in ${summary.wallSeconds.toFixed(1)} s; wrote ${shown.dir}`);
  return 0;
}

/**
 * An env that can no longer step, as a value (a stop of its own); any other error is thrown.
 *
 * @example
 * ```ts ignore
 * const sft = await sftBaselineUntil(trainer, { shouldStop, evaluate }).catch(envLost);
 * ```
 */
export function envLost(e: unknown): EnvLostError {
  if (e instanceof EnvLostError) return e;
  throw e;
}
