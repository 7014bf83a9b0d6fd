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

import { basename, join, resolve } from "node:path";
import { UserError } from "../errors.ts";
import { writeFileAtomic } from "../io/mod.ts";
import { checkPrintable, escapedString, sbatchQuote, shellQuote } from "./_quote.ts";
import { slurmTime } from "./emit_schedule.ts";
import type { EmitJob } from "./emit_schedule.ts";
import { rayEntrypoint } from "./emit_ray.ts";

export { shellQuote } from "./_quote.ts";
export type { EmitJob } from "./emit_schedule.ts";

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

// The per-task arguments after the program, with `index` (already quoted) for the index.
function taskArgs(job: EmitJob, index: string): string {
  const args = ["train", "--seeds", job.list, "--task-index"].map(shellQuote);
  return [
    ...args,
    index,
    ...["--out-dir", job.outDir, ...job.flags].map(shellQuote),
  ].join(" ");
}

/**
 * The job's name on the cluster, from its folder: `dw-<folder name>-<hash of its
 * path>`, lower-case letters, digits and `-`, at most 52 characters (a Kubernetes Job
 * name leaves room for its pods' suffixes).
 *
 * @example
 * ```ts
 * jobName("/home/me/out/My Sweep"); // "dw-my-sweep-" + 8 hex digits
 * ```
 */
export function jobName(absoluteOutDir: string): string {
  let hash = 0x811c9dc5;
  for (const b of new TextEncoder().encode(absoluteOutDir)) {
    hash = Math.imul(hash ^ b, 0x01000193) >>> 0;
  }
  const base = basename(absoluteOutDir).toLowerCase().replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "").slice(0, 30).replace(/-+$/, "");
  return `dw-${base ? `${base}-` : ""}${hash.toString(16).padStart(8, "0")}`;
}

// Comment lines: every path shell-quoted (pasting a line never runs what a name holds).
function header(job: EmitJob): string[] {
  const dir = join(job.outDir, "seed_N");
  return [
    `delta-waypoint: ${job.seeds.length} training seeds (${job.list}), one seed per task.`,
    `Task i (0-based) trains seed i of: ${job.seeds.join(" ")}`,
    `into ${shellQuote(dir)}, exactly as train --seed N --out-dir ${shellQuote(dir)} would.`,
    "A task run again (requeued, retried, re-submitted) resumes its seed from its newest",
    "checkpoint, or does nothing when the seed has finished.",
    `Afterwards: delta-waypoint aggregate ${shellQuote(job.outDir)}`,
  ];
}

/**
 * A Slurm job-array script: array task i runs seed i of the list. Requeued on
 * preemption or node failure (`--requeue`), and told to save and stop (SIGTERM to the
 * trainer, which the script `exec`s) `signalLead` seconds before the time limit.
 *
 * @example
 * ```ts ignore
 * Deno.writeTextFileSync("out/seeds/slurm_array.sh", slurmScript(job));
 * ```
 */
export function slurmScript(job: EmitJob): string {
  const n = job.seeds.length;
  const s = job.schedule;
  const limit = job.jobs === null ? "" : `%${job.jobs}`;
  const cwd = resolve(job.cwd);
  const directives = [
    `--job-name=${jobName(resolve(cwd, job.outDir))}`,
    `--array=0-${n - 1}${limit}`,
    "--ntasks=1",
    `--cpus-per-task=${s.cpus}`,
    `--mem=${s.memMiB}M`,
    ...(s.time === null ? [] : [`--time=${slurmTime(s.time)}`]),
    ...(s.partition === null ? [] : [`--partition=${s.partition}`]),
    ...(s.account === null ? [] : [`--account=${s.account}`]),
    "--requeue",
    `--signal=B:TERM@${s.signalLead}`,
    // Slurm's output patterns (%A, %a) apply to the relative name only; the folder,
    // whatever it holds, is the job's working folder
    `--chdir=${resolve(cwd, job.outDir, "logs")}`,
    "--output=slurm_%A_%a.log",
    ...s.sbatchArgs,
  ];
  return [
    "#!/bin/bash",
    ...header(job).map((l) => `# ${l}`),
    `# Submit (nothing was submitted): sbatch ${shellQuote(join(job.outDir, EMIT_FILES.slurm))}`,
    "# One task again: sbatch --array=I (same file). DELTA_WAYPOINT, if set, is the command",
    "# that starts delta-waypoint on the nodes; by default the one that wrote this file.",
    ...directives.map((d) => `#SBATCH ${sbatchQuote(d)}`),
    "set -euo pipefail",
    `cd -- ${shellQuote(cwd)}`,
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
 * the number of seeds, parallelism = min(seeds, jobs), a retry budget per index
 * (preemptions not counted), memory requests and limits, a deadline and a TTL. The
 * image and the shared volume are placeholders to fill in (see the comments at the top).
 *
 * @example
 * ```ts ignore
 * Deno.writeTextFileSync("out/seeds/k8s_indexed_job.yaml", k8sManifest(job));
 * ```
 */
export function k8sManifest(job: EmitJob): string {
  const n = job.seeds.length;
  const s = job.schedule;
  const parallelism = Math.min(n, job.jobs ?? n);
  const q = escapedString; // a YAML double-quoted scalar
  const command = `exec delta-waypoint ${taskArgs(job, '"$JOB_COMPLETION_INDEX"')}`;
  const absolute = job.outDir.startsWith("/");
  // The shared volume holds the runs: mounted at /data (the working folder) for a
  // relative --out-dir, at the folder itself for an absolute one.
  const mount = absolute ? job.outDir : "/data";
  const waves = Math.ceil(n / parallelism);
  const deadline = s.time === null ? 7 * 86400 : s.time * waves * (s.retries + 1);
  const memory = q(`${s.memMiB}Mi`);
  return [
    ...header(job).map((l) => `# ${l}`),
    `# Submit (nothing was submitted): kubectl apply -f ${
      shellQuote(join(job.outDir, EMIT_FILES.k8s))
    }`,
    "# Fill in first: an image with the delta-waypoint executable on PATH (see 'Building the",
    "# image' in docs/reference.md) and a ReadWriteMany PersistentVolumeClaim",
    '# "delta-waypoint-runs" that every pod shares; the runs, seeds.json and logs/ go on it.',
    "# backoffLimitPerIndex and podFailurePolicy need Kubernetes 1.29+.",
    "apiVersion: batch/v1",
    "kind: Job",
    "metadata:",
    `  name: ${q(jobName(resolve(job.cwd, job.outDir)))}`,
    "  labels:",
    "    app: delta-waypoint",
    ...(s.partition === null ? [] : [`    kueue.x-k8s.io/queue-name: ${q(s.partition)}`]),
    "spec:",
    "  completionMode: Indexed",
    `  completions: ${n}`,
    `  parallelism: ${parallelism}`,
    `  backoffLimitPerIndex: ${s.retries}`,
    `  activeDeadlineSeconds: ${deadline}`,
    "  ttlSecondsAfterFinished: 604800",
    "  podFailurePolicy:",
    "    rules:",
    "      - action: Ignore",
    "        onPodConditions:",
    "          - type: DisruptionTarget",
    "  template:",
    "    metadata:",
    "      labels:",
    "        app: delta-waypoint",
    "    spec:",
    "      restartPolicy: Never",
    `      terminationGracePeriodSeconds: ${s.signalLead}`,
    ...(s.time === null ? [] : [`      activeDeadlineSeconds: ${s.time}`]),
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
    `              cpu: ${q(String(s.cpus))}`,
    `              memory: ${memory}`,
    "            limits:",
    `              memory: ${memory}`,
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
  checkEmittable(job);
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
  const render = { slurm: slurmScript, k8s: k8sManifest, ray: rayEntrypoint };
  const texts = targets.map((t) => render[t](job));
  Deno.mkdirSync(join(job.outDir, "logs"), { recursive: true });
  for (const [i, t] of targets.entries()) {
    await writeFileAtomic(paths[i], texts[i]);
    if (t !== "k8s") Deno.chmodSync(paths[i], 0o755);
  }
  return paths;
}

/**
 * Refuses (one line, before anything is written) a job whose folder, working folder,
 * program or flags a job file cannot hold: control characters (a line break would end a
 * `#SBATCH` line or a comment). Every other character works (quoted).
 *
 * @example
 * ```ts ignore
 * checkEmittable(job);
 * ```
 */
export function checkEmittable(job: Pick<EmitJob, "outDir" | "cwd" | "flags" | "program">): void {
  // (the error line shows the name with its control characters escaped)
  checkPrintable(`--out-dir ${job.outDir}`, job.outDir);
  checkPrintable("the working folder", job.cwd);
  for (const arg of [...job.flags, ...job.program]) checkPrintable(`argument '${arg}'`, arg);
}
