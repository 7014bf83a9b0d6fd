// Fixed-work throughput against the PyTorch peer (../shared/peers/torch_ppo_workload.py):
// the same PPO iteration (10 envs in lockstep, H 20, hidden 64, 5 epochs of minibatches
// of 64 every update; `--target-kl 1e9` turns off the KL early stop so every epoch
// runs), measured back to back in the same session, alternating, `--repeats` times.
// Our figure is `env_steps_per_second` of train_metrics.json (the training loop, with a
// single evaluation and no checkpoint in between); the peer's is its loop's steps/s.
// Skips with a message (exit 0) when python3 with torch is not installed.
//
// Run: deno task peer-bench [--episodes 1000] [--repeats 3]

import { parseArgs } from "node:util";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    episodes: { type: "string", default: "1000" },
    repeats: { type: "string", default: "3" },
  },
});
const episodes = Number(values.episodes), repeats = Number(values.repeats);
if (!Number.isInteger(episodes) || episodes < 10 || !Number.isInteger(repeats) || repeats < 1) {
  console.error("peer-bench: --episodes must be an integer >= 10 and --repeats >= 1");
  Deno.exit(2);
}

const path = (url: URL) => decodeURIComponent(url.pathname);
const root = path(new URL("..", import.meta.url));
const peer = path(new URL("../../shared/peers/torch_ppo_workload.py", import.meta.url));
const decoder = new TextDecoder();

async function run(cmd: string, args: string[], env: Record<string, string> = {}) {
  try {
    const out = await new Deno.Command(cmd, { args, cwd: root, env, stdin: "null" }).output();
    return {
      code: out.code,
      stdout: decoder.decode(out.stdout),
      stderr: decoder.decode(out.stderr),
    };
  } catch (err) {
    return { code: -1, stdout: "", stderr: String(err) };
  }
}

// The first Python that imports torch: $PYTHON, python3 on the PATH, then Debian's.
let python = "", probe = { code: -1, stdout: "", stderr: "" };
for (const candidate of [Deno.env.get("PYTHON"), "python3", "/usr/bin/python3"]) {
  if (!candidate) continue;
  probe = await run(candidate, ["-c", "import torch; print(torch.__version__)"]);
  if (probe.code === 0) {
    python = candidate;
    break;
  }
}
if (python === "") {
  console.log(
    "peer-bench: skipped: python3 with torch not found (Debian: apt-get install -y python3-torch)",
  );
  Deno.exit(0);
}
try {
  await Deno.stat(peer);
} catch {
  console.log(`peer-bench: skipped: the peer script ${peer} is missing`);
  Deno.exit(0);
}

const work = { envs: 10, epochs: 5, batch: 64, horizon: 20, hidden: 64, steps: 100 };
const outDir = await Deno.makeTempDir({ prefix: "peer_bench_" });
const oursArgs = [
  "run",
  "--allow-read",
  "--allow-write",
  "--allow-env",
  "main.ts",
  "train",
  "--out-dir",
  outDir,
  "--overwrite",
  "--quiet",
  "--episodes",
  `${episodes}`,
  "--target-kl",
  "1e9",
  "--num-envs",
  `${work.envs}`,
  "--update-epochs",
  `${work.epochs}`,
  "--batch-size",
  `${work.batch}`,
  "--horizon-steps",
  `${work.horizon}`,
  "--hidden-dim",
  `${work.hidden}`,
  "--max-episode-steps",
  `${work.steps}`,
  "--eval-interval",
  `${episodes}`,
  "--save-interval",
  `${episodes}`,
  "--eval-episodes",
  "1",
  "--heldout-episodes",
  "1",
];
const peerArgs = [
  peer,
  ...["--episodes", `${episodes}`, "--steps", `${work.steps}`, "--envs", `${work.envs}`],
  ...["--epochs", `${work.epochs}`, "--batch", `${work.batch}`, "--horizon", `${work.horizon}`],
  ...["--hidden", `${work.hidden}`, "--threads", "1"],
];

console.log(
  `${python}, torch ${probe.stdout.trim()}; ${episodes} episodes per run, ${repeats} runs each`,
);
console.log("run | torch steps/s | ours steps/s | ours / torch");
const ratios: number[] = [];
try {
  for (let r = 1; r <= repeats; r++) {
    const p = await run(python, peerArgs, { OMP_NUM_THREADS: "1" });
    if (p.code !== 0) throw new Error(`the peer failed: ${p.stderr.trim()}`);
    const torchRate = JSON.parse(p.stdout.trim().split("\n").at(-1)!).steps_per_s as number;
    const o = await run(Deno.execPath(), oursArgs);
    if (o.code !== 0) throw new Error(`train failed: ${o.stderr.trim()}`);
    const summary = JSON.parse(await Deno.readTextFile(`${outDir}/train_metrics.json`));
    const ours = summary.env_steps_per_second as number;
    ratios.push(ours / torchRate);
    console.log(
      `${r} | ${torchRate.toFixed(0)} | ${ours.toFixed(0)} | ${(ours / torchRate).toFixed(2)}x`,
    );
  }
  console.log(
    `ours / torch: ${Math.min(...ratios).toFixed(2)}x .. ${Math.max(...ratios).toFixed(2)}x`,
  );
} catch (err) {
  console.error(`peer-bench: ${err instanceof Error ? err.message : err}`);
  Deno.exitCode = 1;
} finally {
  await Deno.remove(outDir, { recursive: true });
}
