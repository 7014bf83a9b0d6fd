/**
 * The emitted job files run as the schedulers run them (issue 18), in folders whose
 * names hold spaces, quotes, `$()`, backticks, `"""`, backslashes, `%` and non-ASCII:
 * the Slurm script with bash and SLURM_ARRAY_TASK_ID, the Kubernetes container's
 * command with sh (the YAML parsed with the npm `yaml` package), the Ray driver with
 * Python and a stand-in `ray` module (tests/_ray_stub.py: Ray is not in the test venv).
 * Only training runs: no marker file appears. A name with a line break is refused
 * before anything is written. Tasks are idempotent: stopped with SIGTERM or killed
 * with SIGKILL midway and run again, a seed ends bit for bit as a run never stopped.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { parse as parseYaml } from "yaml";
import {
  assertSameHeads,
  readJson,
  ROOT,
  runCommand,
  SMOKE_ENV_FLAGS,
  waitFor,
  withTempDir,
  writeCliShim,
} from "./_helpers.ts";
import { testPython } from "./_python.ts";

const MAIN = join(ROOT, "main.ts");
const DENO_RUN = [Deno.execPath(), "run", "--allow-read", "--allow-write"];
// Long enough that a task is still training when the test stops it after its first checkpoints.
const FLAGS = [
  ...SMOKE_ENV_FLAGS,
  ...["--hidden-dim", "16", "--episodes", "300", "--update-epochs", "2"],
  ...["--eval-interval", "10", "--save-interval", "10", "--heldout-episodes", "6"],
  ...["--eval-episodes", "2", "--quiet"],
];
// Every piece a path may hold; the marker file appears if any is run as code.
const HOSTILE = [
  "a b",
  `q'uo"te`,
  "$(touch MARK)",
  "`touch MARK`",
  '"""; import os; os.system("touch MARK") #',
  "back\\slash",
  "per%cent %A_%a",
  "ünï ☃ 𝄞",
];

// sbatch's reading of one #SBATCH line's arguments (src/sbatch/opt.c, _get_argument):
// whitespace separates, quotes group, a backslash escapes the next character.
function sbatchArgs(line: string): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < line.length) {
    while (i < line.length && /\s/.test(line[i])) i++;
    if (i >= line.length) break;
    let arg = "", quote = "";
    for (; i < line.length && (quote || !/\s/.test(line[i])); i++) {
      const c = line[i];
      if (c === "\\") arg += line[++i];
      else if (quote && c === quote) quote = "";
      else if (!quote && (c === '"' || c === "'")) quote = c;
      else if (!quote && c === "#") return [...out, ...(arg ? [arg] : [])];
      else arg += c;
    }
    out.push(arg);
  }
  return out;
}

const noTimestamps = (path: string) =>
  (readJson(path) as Record<string, unknown>[]).map(({ timestamp: _, ...rest }) => rest);

function markers(dir: string): string[] {
  const found: string[] = [];
  const walk = (d: string) => {
    for (const e of Deno.readDirSync(d)) {
      if (e.name === "MARK") found.push(join(d, e.name));
      if (e.isDirectory) walk(join(d, e.name));
    }
  };
  walk(dir);
  return found;
}

Deno.test("job files in hostile folders: Slurm, Kubernetes and Ray run only training; tasks resume after SIGTERM and SIGKILL", () =>
  withTempDir(async (dir) => {
    const cwd = join(dir, "work $(touch MARK)");
    Deno.mkdirSync(cwd);
    const out = join(...HOSTILE); // relative to cwd
    const emit = ["train", "--seeds", "5,6", "--emit", "all", "--out-dir", out, ...FLAGS];
    const sched = ["--time", "1:00:00", "--mem", "3G", "--partition", "gpu-a", "--retries", "2"];
    const e = await runCommand([...DENO_RUN, "--allow-run", MAIN, ...emit, ...sched], { cwd });
    assert.equal(e.code, 0, e.stderr);
    const abs = join(cwd, out);

    // The Slurm script: directives as sbatch reads them, then task 0 run by bash.
    const script = Deno.readTextFileSync(join(abs, "slurm_array.sh"));
    const directives = script.split("\n").filter((l) => l.startsWith("#SBATCH "))
      .flatMap((l) => sbatchArgs(l.slice(8)));
    assert.ok(directives.includes(`--chdir=${join(abs, "logs")}`), directives.join(" | "));
    for (const d of ["--output=slurm_%A_%a.log", "--requeue", "--signal=B:TERM@180"]) {
      assert.ok(directives.includes(d), d);
    }
    for (const d of ["--time=0-01:00:00", "--mem=3072M", "--partition=gpu-a", "--array=0-1"]) {
      assert.ok(directives.includes(d), d);
    }
    assert.equal((await runCommand(["bash", "-n", join(abs, "slurm_array.sh")])).code, 0);

    // Task 0 as Slurm runs it: stopped by SIGTERM midway, then run again.
    const spawnSlurmTask = () =>
      new Deno.Command("bash", {
        args: [join(abs, "slurm_array.sh")],
        cwd: dir,
        env: { SLURM_ARRAY_TASK_ID: "0" },
        stdin: "null",
        stdout: "null",
        stderr: "null",
      }).spawn();
    const slurmTask = (signal: Deno.Signal) => spawnSlurmTask().status.then(() => signal);
    const first = spawnSlurmTask();
    await waitFor(join(abs, "seed_5", "checkpoints", "checkpoint_10.pt"), first);
    first.kill("SIGTERM");
    assert.equal((await first.status).code, 143);
    assert.equal(await slurmTask("SIGTERM"), "SIGTERM");

    // Task 1 as the Kubernetes container runs it: killed with SIGKILL midway, run again.
    const job = parseYaml(Deno.readTextFileSync(join(abs, "k8s_indexed_job.yaml")));
    assert.equal(job.spec.completions, 2);
    assert.equal(job.spec.backoffLimitPerIndex, 2);
    assert.match(job.metadata.name, /^dw-[a-z0-9-]+$/);
    assert.equal(job.metadata.labels["kueue.x-k8s.io/queue-name"], "gpu-a");
    const container = job.spec.template.spec.containers[0];
    assert.deepEqual(container.resources.limits, { memory: "3072Mi" });
    const bin = writeCliShim(dir, [...DENO_RUN, MAIN]);
    const k8sEnv = { JOB_COMPLETION_INDEX: "1", PATH: `${bin}:${Deno.env.get("PATH")}` };
    const killed = new Deno.Command("sh", {
      args: ["-c", container.command[2]],
      cwd,
      env: k8sEnv,
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).spawn();
    await waitFor(join(abs, "seed_6", "checkpoints", "checkpoint_20.pt"), killed);
    // sh exec'd the wrapper, which exec'd deno: the one process is the trainer
    killed.kill("SIGKILL");
    await killed.status;
    const again = await runCommand(["sh", "-c", container.command[2]], { cwd, env: k8sEnv });
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stderr, /seed 6: resuming from .*checkpoint_\d+\.pt/);

    // The Ray driver: both seeds are finished, so each task does nothing.
    const stub = join(dir, "stub");
    Deno.mkdirSync(stub);
    Deno.copyFileSync(join(ROOT, "tests", "_ray_stub.py"), join(stub, "ray.py"));
    const before = Deno.readFileSync(join(abs, "seed_5", "final.pt"));
    const ray = await runCommand([testPython(), join(abs, "ray_job.py")], {
      cwd: dir,
      env: { PYTHONPATH: stub },
    });
    assert.equal(ray.code, 0, ray.stderr);
    assert.match(ray.stdout, /seed 5 \(task 0\): exit code 0/);
    assert.deepEqual(Deno.readFileSync(join(abs, "seed_5", "final.pt")), before);
    assert.match(Deno.readTextFileSync(join(abs, "logs", "seed_5.log")), /holds the finished run/);

    // Each seed equals the run never stopped.
    for (const seed of [5, 6]) {
      const single = join(dir, `single_${seed}`);
      const s = await runCommand([
        ...DENO_RUN,
        MAIN,
        "train",
        "--seed",
        String(seed),
        "--out-dir",
        single,
        ...FLAGS,
      ]);
      assert.equal(s.code, 0, s.stderr);
      await assertSameHeads(join(abs, `seed_${seed}`, "final.pt"), join(single, "final.pt"));
      assert.deepEqual(
        noTimestamps(join(abs, `seed_${seed}`, "metrics.json")),
        noTimestamps(join(single, "metrics.json")),
      );
    }
    assert.deepEqual((readJson(join(abs, "seeds.json")) as { seeds: number[] }).seeds, [5, 6]);
    assert.deepEqual(markers(dir), []);
  }));

Deno.test("a folder name with a line break is refused before anything is written", () =>
  withTempDir(async (dir) => {
    const out = join(dir, "s\ntouch MARK;#");
    const r = await runCommand([
      ...DENO_RUN,
      "--allow-run",
      MAIN,
      ...["train", "--seeds", "1-2", "--emit", "all", "--out-dir", out],
    ]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /^error: --out-dir .*s\\ntouch MARK;#: holds a control character/);
    assert.deepEqual([...Deno.readDirSync(dir)], []);
  }));
