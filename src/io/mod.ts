/**
 * The PyTorch `.pt` codec (zip, pickle, tensors), plain-data helpers for pickle values,
 * atomic files, size limits of what is read, config files, the run folder, and the
 * run's scalars (TensorBoard event files, `progress.csv`). A leaf:
 * it imports no trainer, env, nn, sft, ppo, run, sweep or CLI code.
 *
 * @module
 */

export * from "./torch_pt.ts";
export * from "./pt_json.ts";
export * from "./atomic.ts";
export * from "./limits.ts";
export * from "./run_dir.ts";
export * from "./bounded_json.ts";
export * from "./onnx.ts";
export * from "./config_file.ts";
export * from "./config_yaml.ts";
export * from "./tfevents.ts";
export * from "./progress_csv.ts";
