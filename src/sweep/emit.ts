/**
 * `train --seeds LIST --emit slurm|k8s|ray`: job files that run one seed per task on an
 * existing scheduler, written (never submitted) into the multi-seed folder. Every task
 * runs the same documented command,
 *
 * ```
 * delta-waypoint train --seeds LIST --task-index I --out-dir DIR [flags]
 * ```
 *
 * which trains seed number I (0-based) of LIST into DIR/seed_N, exactly as
 * `train --seed N --out-dir DIR/seed_N [flags]` would; `aggregate DIR` then summarises
 * whatever has finished.
 *
 * @module
 */

import { join, resolve } from "node:path";
import { UserError } from "../errors.ts";
import { writeFileAtomic } from "../io/mod.ts";

/** The schedulers a job can be emitted for. */
export const EMIT_TARGETS = ["slurm", "k8s", "ray"] as const;

/** One of {@linkcode EMIT_TARGETS}. */
export type EmitTarget = typeof EMIT_TARGETS[number];

/** The file each target writes into the multi-seed folder. */
export const EMIT_FILES: Readonly<Record<EmitTarget, string>> = Object.freeze({
  slurm: "slurm_array.sh",
  k8s: "k8s_indexed_job.yaml",
  ray: "ray_job.py",
});

/** What every emitted job runs. */
export interface EmitJob {
  /** The seeds; task i runs `seeds[i]`. */
  seeds: number[];
  /** The `--seeds` list as given (digits, commas and dashes only). */
  list: string;
  /** `--out-dir` as given: the shared multi-seed folder. */
  outDir: string;
  /** The other train flags, as given. */
  flags: string[];
  /** Tasks at a time (`--jobs`); null: as many as the scheduler allows. */
  jobs: number | null;
  /** The command that starts this program here, e.g. ["/usr/bin/deno", "run", ..., "main.ts"]. */
  program: string[];
  /** Working folder the tasks run in (where relative paths in the flags resolve). */
  cwd: string;
}

/**
 * The targets of an `--emit` value: one name, a comma-separated list, or `all`.
 *
 * @example
 * ```ts
 * parseEmitTargets("slurm,k8s"); // ["slurm", "k8s"]
 * ```
 */
export function parseEmitTargets(text: string): EmitTarget[] {
  if (text.trim() === "all") return [...EMIT_TARGETS];
  const out: EmitTarget[] = [];
  for (const raw of text.split(",")) {
    const name = raw.trim() as EmitTarget;
    if (!EMIT_TARGETS.includes(name)) {
      throw new UserError(
        `--emit: unknown target '${raw}' (expected ${
          EMIT_TARGETS.join(", ")
        }, a comma list, or all)`,
      );
    }
    if (!out.includes(name)) out.push(name);
  }
  return out;
}

/**
 * `s` quoted for POSIX sh (left bare when it has only safe characters).
 *
 * @example
 * ```ts
 * shellQuote("it's"); // "'it'\\''s'"
 * ```
 */
export function shellQuote(s: string): string {
  if (/^[A-Za-z0-9_\/.,:=+@%-]+$/.test(s)) return s;
  return `'${s.replaceAll("'", `'\\''`)}'`;
}

// The per-task arguments after the program, with `index` (already quoted) for the index.
function taskArgs(job: EmitJob, index: string): string {
  const args = ["train", "--seeds", job.list, "--task-index"].map(shellQuote);
  return [
    ...args,
    index,
    ...["--out-dir", job.outDir, ...job.flags].map(shellQuote),
  ].join(" ");
}

function header(job: EmitJob): string[] {
  return [
    `delta-waypoint: ${job.seeds.length} training seeds (${job.list}), one seed per task.`,
    `Task i (0-based) trains seed i of: ${job.seeds.join(" ")}`,
    `into ${join(job.outDir, "seed_N")}, exactly as \`train --seed N --out-dir ${
      join(job.outDir, "seed_N")
    }\` would.`,
    `Afterwards: delta-waypoint aggregate ${job.outDir}`,
  ];
}

/**
 * A Slurm job-array script: array task i runs seed i of the list.
 *
 * @example
 * ```ts ignore
 * Deno.writeTextFileSync("out/seeds/slurm_array.sh", slurmScript(job));
 * ```
 */
export function slurmScript(job: EmitJob): string {
  const n = job.seeds.length;
  const limit = job.jobs === null ? "" : `%${job.jobs}`;
  return [
    "#!/bin/bash",
    ...header(job).map((l) => `# ${l}`),
    `# Submit (nothing was submitted): sbatch ${join(job.outDir, EMIT_FILES.slurm)}`,
    "# DELTA_WAYPOINT, if set, is the command that starts delta-waypoint on the nodes;",
    "# by default the one that wrote this file.",
    "#SBATCH --job-name=delta-waypoint",
    `#SBATCH --array=0-${n - 1}${limit}`,
    "#SBATCH --ntasks=1",
    "#SBATCH --cpus-per-task=1",
    `#SBATCH --chdir=${resolve(job.cwd)}`,
    `#SBATCH --output=${resolve(job.cwd, job.outDir, "logs")}/slurm_%A_%a.log`,
    "set -euo pipefail",
    `cd ${shellQuote(resolve(job.cwd))}`,
    'if [ -n "${DELTA_WAYPOINT:-}" ]; then',
    '  read -r -a program <<<"$DELTA_WAYPOINT"',
    "else",
    `  program=(${job.program.map(shellQuote).join(" ")})`,
    "fi",
    `exec "\${program[@]}" ${taskArgs(job, '"${SLURM_ARRAY_TASK_ID:?not a Slurm array task}"')}`,
    "",
  ].join("\n");
}

/**
 * A Kubernetes Indexed Job: completion index i runs seed i of the list; completions =
 * the number of seeds, parallelism = min(seeds, jobs). The image and the shared
 * volume are placeholders to fill in (see the comments at the top).
 *
 * @example
 * ```ts ignore
 * Deno.writeTextFileSync("out/seeds/k8s_indexed_job.yaml", k8sManifest(job));
 * ```
 */
export function k8sManifest(job: EmitJob): string {
  const n = job.seeds.length;
  const parallelism = Math.min(n, job.jobs ?? n);
  const q = (s: string) => JSON.stringify(s); // a JSON string is a YAML double-quoted scalar
  const command = `exec delta-waypoint ${taskArgs(job, '"$JOB_COMPLETION_INDEX"')}`;
  const absolute = job.outDir.startsWith("/");
  // The shared volume holds the runs: mounted at /data (the working folder) for a
  // relative --out-dir, at the folder itself for an absolute one.
  const mount = absolute ? job.outDir : "/data";
  return [
    ...header(job).map((l) => `# ${l}`),
    `# Submit (nothing was submitted): kubectl apply -f ${join(job.outDir, EMIT_FILES.k8s)}`,
    "# Fill in first: an image with the delta-waypoint executable on PATH (deno task compile)",
    '# and a ReadWriteMany PersistentVolumeClaim "delta-waypoint-runs" that every pod shares.',
    `# Runs go to ${
      absolute ? job.outDir : `/data/${job.outDir}`
    } on that volume; files the flags name must be in the image or on it.`,
    "# backoffLimitPerIndex (Kubernetes 1.29+) lets a failed seed fail alone; on older",
    "# clusters remove it and set backoffLimit instead.",
    "apiVersion: batch/v1",
    "kind: Job",
    "metadata:",
    "  name: delta-waypoint-seeds",
    "  labels:",
    "    app: delta-waypoint",
    "spec:",
    "  completionMode: Indexed",
    `  completions: ${n}`,
    `  parallelism: ${parallelism}`,
    "  backoffLimitPerIndex: 0",
    "  template:",
    "    metadata:",
    "      labels:",
    "        app: delta-waypoint",
    "    spec:",
    "      restartPolicy: Never",
    "      containers:",
    "        - name: train",
    `          image: ${q("delta-waypoint:latest")}`,
    ...(absolute ? [] : [`          workingDir: ${q("/data")}`]),
    "          command:",
    `            - ${q("sh")}`,
    `            - ${q("-c")}`,
    `            - ${q(command)}`,
    "          resources:",
    "            requests:",
    `              cpu: ${q("1")}`,
    "          volumeMounts:",
    "            - name: runs",
    `              mountPath: ${q(mount)}`,
    "      volumes:",
    "        - name: runs",
    "          persistentVolumeClaim:",
    `            claimName: ${q("delta-waypoint-runs")}`,
    "",
  ].join("\n");
}

/**
 * A Ray job entrypoint (Python): one `ray.remote` task (1 CPU) per seed, at most
 * `jobs` at a time, each running the per-task command as a subprocess.
 *
 * @example
 * ```ts ignore
 * Deno.writeTextFileSync("out/seeds/ray_job.py", rayEntrypoint(job));
 * ```
 */
export function rayEntrypoint(job: EmitJob): string {
  const py = (v: unknown) => JSON.stringify(v); // JSON strings, numbers and lists are Python literals
  const args = ["train", "--seeds", job.list, "--task-index", "{index}", "--out-dir", job.outDir];
  return [
    "#!/usr/bin/env python3",
    '"""',
    ...header(job),
    "",
    "Submit (nothing was submitted), on a Ray cluster whose nodes share this folder:",
    `    ray job submit --address http://HEAD:8265 -- python3 ${
      resolve(job.cwd, job.outDir, EMIT_FILES.ray)
    }`,
    "DELTA_WAYPOINT, if set, is the command that starts delta-waypoint on the nodes;",
    "by default the one that wrote this file.",
    '"""',
    "import os",
    "import shlex",
    "import subprocess",
    "import sys",
    "",
    "import ray",
    "",
    `SEEDS = ${py(job.seeds)}`,
    `MAX_PARALLEL = ${job.jobs ?? job.seeds.length}`,
    `CWD = ${py(resolve(job.cwd))}`,
    `PROGRAM = shlex.split(os.environ.get("DELTA_WAYPOINT", "")) or ${py(job.program)}`,
    `TASK_ARGS = ${py([...args, ...job.flags])}`,
    "",
    "",
    "def task_command(index):",
    '    return PROGRAM + [str(index) if a == "{index}" else a for a in TASK_ARGS]',
    "",
    "",
    "@ray.remote(num_cpus=1)",
    "def run_task(index):",
    "    return subprocess.run(task_command(index), cwd=CWD).returncode",
    "",
    "",
    "def main():",
    "    ray.init()",
    "    pending, codes, next_index = {}, {}, 0",
    "    while next_index < len(SEEDS) or pending:",
    "        while next_index < len(SEEDS) and len(pending) < MAX_PARALLEL:",
    "            pending[run_task.remote(next_index)] = next_index",
    "            next_index += 1",
    "        done, _ = ray.wait(list(pending), num_returns=1)",
    "        for ref in done:",
    "            index = pending.pop(ref)",
    "            codes[index] = ray.get(ref)",
    '            print(f"seed {SEEDS[index]} (task {index}): exit code {codes[index]}", flush=True)',
    "    failed = [SEEDS[i] for i in sorted(codes) if codes[i] != 0]",
    "    if failed:",
    '        print(f"failed seeds: {failed}", file=sys.stderr)',
    "    return 1 if failed else 0",
    "",
    "",
    'if __name__ == "__main__":',
    "    sys.exit(main())",
    "",
  ].join("\n");
}

/**
 * Writes the job file of each target into `job.outDir` (and its `logs/` folder for
 * Slurm's output); an existing file is refused unless `overwrite`. Returns the paths.
 *
 * @example
 * ```ts ignore
 * const paths = await writeEmitted(["slurm", "k8s"], { job, overwrite: false });
 * ```
 */
export async function writeEmitted(
  targets: EmitTarget[],
  opts: { job: EmitJob; overwrite: boolean },
): Promise<string[]> {
  const { job } = opts;
  const paths = targets.map((t) => join(job.outDir, EMIT_FILES[t]));
  if (!opts.overwrite) {
    for (const path of paths) {
      try {
        Deno.statSync(path);
      } catch (e) {
        if (e instanceof Deno.errors.NotFound) continue;
        throw e;
      }
      throw new UserError(`--emit: ${path} exists; pass --overwrite to replace it`);
    }
  }
  Deno.mkdirSync(join(job.outDir, "logs"), { recursive: true });
  const render = { slurm: slurmScript, k8s: k8sManifest, ray: rayEntrypoint };
  for (const [i, t] of targets.entries()) {
    await writeFileAtomic(paths[i], render[t](job));
    if (t !== "k8s") Deno.chmodSync(paths[i], 0o755);
  }
  return paths;
}
