/**
 * The Ray job file of `train --seeds ... --emit ray`: a driver that runs one Ray task per
 * seed, each running the per-task command as a subprocess; Ctrl-C or SIGTERM to the
 * driver is passed on to every running trainer as SIGTERM, and the driver waits for
 * their checkpoints.
 *
 * @module
 */

import { resolve } from "node:path";
import type { EmitJob } from "./emit_schedule.ts";
import { escapedString, shellQuote } from "./_quote.ts";

// A Python literal of `v`: strings with every non-ASCII or control character escaped.
function py(v: unknown): string {
  if (typeof v === "string") return escapedString(v);
  if (Array.isArray(v)) return `[${v.map(py).join(", ")}]`;
  if (v === null) return "None";
  return String(v);
}

// The driver's imports.
const RAY_IMPORTS = [
  "import os",
  "import shlex",
  "import signal",
  "import subprocess",
  "import sys",
  "import time",
  "",
  "import ray",
];

// The driver after its settings: the task, the stop flag, the loop that runs the tasks.
const RAY_DRIVER = [
  "",
  "",
  "def task_command(index):",
  '    return PROGRAM + [str(index) if a == "{index}" else a for a in TASK_ARGS]',
  "",
  "",
  "@ray.remote",
  "class Stopper:",
  "    def __init__(self):",
  "        self.stopped = False",
  "",
  "    def stop(self):",
  "        self.stopped = True",
  "",
  "    def is_stopped(self):",
  "        return self.stopped",
  "",
  "",
  "@ray.remote(num_cpus=NUM_CPUS, memory=MEMORY, max_retries=RETRIES)",
  "def run_task(index, stopper):",
  "    # SIGTERM makes the trainer save a checkpoint and exit 143",
  "    trainer = subprocess.Popen(task_command(index), cwd=CWD)",
  "    start, told = time.monotonic(), False",
  "    while True:",
  "        try:",
  "            return trainer.wait(timeout=1)",
  "        except subprocess.TimeoutExpired:",
  "            pass",
  "        late = TIME_LIMIT is not None and time.monotonic() - start > TIME_LIMIT - SIGNAL_LEAD",
  "        if not told and (late or ray.get(stopper.is_stopped.remote())):",
  "            trainer.send_signal(signal.SIGTERM)",
  "            told = True",
  "",
  "",
  "def main():",
  "    ray.init()",
  "    stopper = Stopper.remote()",
  "    stopping = []",
  "",
  "    def on_signal(signum, _frame):",
  "        if stopping:",
  '            print("stopping at once", file=sys.stderr, flush=True)',
  "            os._exit(130)",
  "        stopping.append(signum)",
  '        print("stopping: each running seed saves a checkpoint", file=sys.stderr, flush=True)',
  "        stopper.stop.remote()",
  "",
  "    signal.signal(signal.SIGINT, on_signal)",
  "    signal.signal(signal.SIGTERM, on_signal)",
  "    queue, pending, codes, runs = list(range(len(SEEDS))), {}, {}, {}",
  "    while queue or pending:",
  "        while queue and not stopping and len(pending) < MAX_PARALLEL:",
  "            index = queue.pop(0)",
  "            runs[index] = runs.get(index, 0) + 1",
  "            pending[run_task.remote(index, stopper)] = index",
  "        if not pending:",
  "            break",
  "        done, _ = ray.wait(list(pending), num_returns=1, timeout=1.0)",
  "        for ref in done:",
  "            index = pending.pop(ref)",
  "            try:",
  "                codes[index] = ray.get(ref)",
  "            except Exception as error:  # the task itself failed (a lost node)",
  '                print(f"seed {SEEDS[index]} (task {index}): {error}", file=sys.stderr)',
  "                codes[index] = 1",
  '            print(f"seed {SEEDS[index]} (task {index}): exit code {codes[index]}", flush=True)',
  "            failed = codes[index] not in (0, 130, 143)",
  "            if failed and runs[index] <= RETRIES and not stopping:",
  "                queue.append(index)  # run again, it resumes",
  "    unfinished = [SEEDS[i] for i in range(len(SEEDS)) if codes.get(i) != 0]",
  "    if unfinished:",
  '        print(f"seeds not finished: {unfinished}; run this file again to continue them",',
  "              file=sys.stderr)",
  "    return 130 if stopping else (1 if unfinished else 0)",
  "",
  "",
  'if __name__ == "__main__":',
  "    sys.exit(main())",
];

/**
 * A Ray job entrypoint (Python): one `ray.remote` task per seed (`cpus` CPUs and `mem`
 * of memory each), at most `jobs` at a time, each running the per-task command as a
 * subprocess (its output also in `logs/seed_N.log`, which the task writes); a task that
 * fails is run again (it resumes) up to `retries` times; Ctrl-C or SIGTERM to the driver
 * stops every trainer with SIGTERM and waits for their checkpoints (again: at once).
 *
 * @example
 * ```ts ignore
 * Deno.writeTextFileSync("out/seeds/ray_job.py", rayEntrypoint(job));
 * ```
 */
export function rayEntrypoint(job: EmitJob): string {
  const s = job.schedule;
  const args = ["train", "--seeds", job.list, "--task-index", "{index}", "--out-dir", job.outDir];
  const file = resolve(job.cwd, job.outDir, "ray_job.py");
  return [
    "#!/usr/bin/env python3",
    "# delta-waypoint: one Ray task per training seed. Every path below is a string literal;",
    "# the comments show them shell-quoted.",
    `# ${job.seeds.length} seeds (${job.list}) into ${shellQuote(resolve(job.cwd, job.outDir))}`,
    "# Submit (nothing was submitted), on a Ray cluster whose nodes share this folder:",
    `#   ray job submit --address http://HEAD:8265 -- python3 ${shellQuote(file)}`,
    "# Run again to continue: finished seeds are left as they are, the others resume.",
    "# DELTA_WAYPOINT, if set, is the command that starts delta-waypoint on the nodes;",
    "# by default the one that wrote this file.",
    ...RAY_IMPORTS,
    "",
    `SEEDS = ${py(job.seeds)}`,
    `MAX_PARALLEL = ${job.jobs ?? job.seeds.length}`,
    `RETRIES = ${s.retries}`,
    `NUM_CPUS = ${s.cpus}`,
    `MEMORY = ${s.memMiB * 1024 * 1024}`,
    `TIME_LIMIT = ${s.time ?? "None"}`,
    `SIGNAL_LEAD = ${s.signalLead}`,
    `CWD = ${py(resolve(job.cwd))}`,
    `PROGRAM = shlex.split(os.environ.get("DELTA_WAYPOINT", "")) or ${py(job.program)}`,
    `TASK_ARGS = ${py([...args, ...job.flags])}`,
    ...RAY_DRIVER,
    "",
  ].join("\n");
}
