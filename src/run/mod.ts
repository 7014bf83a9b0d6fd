/**
 * The run around PPO: the schedule of a training run with its hooks (eval and save
 * points, a clean stop), the run log (`metrics.json`), checkpoints (written now or
 * later) and resuming from them, the run's `config.json` and its per-env defaults,
 * evaluation of a policy on seeded episodes (on one thread or split with a Worker), the
 * closing held-out evaluation and `train_metrics.json`, the TensorBoard and
 * `progress.csv` scalars, and what a stopped run's folder says.
 *
 * @module
 */

export * from "./run_config.ts";
export * from "./base_planner.ts";
export * from "./env_record.ts";
export * from "./episode_records.ts";
export * from "./evaluate.ts";
export * from "./eval_document.ts";
export * from "./run_log.ts";
export * from "./metric_rules.ts";
export * from "./interval_eval.ts";
export * from "./schedule.ts";
export * from "./checkpoint.ts";
export * from "./checkpoint_env.ts";
export * from "./checkpoint_norms.ts";
export * from "./deferred_checkpoint.ts";
export * from "./resume.ts";
export * from "./heldout.ts";
export * from "./episode_scenes.ts";
export * from "./episodes_file.ts";
export * from "./train_metrics.ts";
export * from "./parallel_eval.ts";
export * from "./scenario_sets.ts";
export * from "./scenario_runs.ts";
export * from "./stop_signals.ts";
export * from "./training.ts";
export * from "./scalars.ts";
export * from "./stopped_run.ts";
