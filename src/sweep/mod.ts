/**
 * Many seeds of one training run, as a client of the single run (`run/`): a multi-seed
 * job's folder (`seed_N/`, `seeds.json`, `summary.json`), its lanes (child processes
 * that each train seeds one at a time) with their combined progress, the job's cluster
 * files (Slurm, Kubernetes, Ray), the summary across seeds with its statistics (mean,
 * IQM, bootstrap intervals) and the expert's return, its table and report, and the
 * seeds of a multi-seed folder as `eval` policies.
 *
 * @module
 */

export * from "./seed_dirs.ts";
export * from "./job.ts";
export * from "./children.ts";
export * from "./lane.ts";
export * from "./seed_state.ts";
export * from "./progress.ts";
export * from "./emit.ts";
export * from "./emit_schedule.ts";
export * from "./stats.ts";
export * from "./expert_returns.ts";
export * from "./run_env.ts";
export * from "./summary.ts";
export * from "./group_summary.ts";
export * from "./table.ts";
export * from "./report.ts";
export * from "./eval_policies.ts";
