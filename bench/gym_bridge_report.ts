/**
 * Prints what the Gymnasium bridge costs per vector step: for N = 1, 8, 16 copies of a
 * do-nothing Box env (`DWTest/Null-v0`, tests/fixtures/gym_envs) and of Pendulum-v1, the
 * time of one vector step through the bridge (`EpisodeStatistics` with auto-reset over
 * `GymVecEnv`), the time of the same N `env.step` calls in plain Python (the same
 * `gymnasium.make` wrappers, reset on done), their difference (the bridge's overhead: frames,
 * pipes, the worker's per-row bookkeeping), and env steps per second through the bridge.
 *
 *     deno run -A bench/gym_bridge_report.ts [PYTHON] [vector steps]
 *
 * PYTHON defaults to the test venv's (`.venv/bin/python`); vector steps to 2000 per timed
 * block, the best of 3 blocks kept.
 *
 * @module
 */

import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { GymVecEnv } from "../src/env/gym/mod.ts";
import { EpisodeStatistics } from "../src/env/episode_statistics.ts";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const FIXTURES = join(ROOT, "tests", "fixtures", "gym_envs");
const python = Deno.args[0] ?? join(ROOT, ".venv", "bin", "python");
const steps = Number(Deno.args[1] ?? 2000);
const IDS = ["DWTest/Null-v0", "Pendulum-v1"];
const SIZES = [1, 8, 16];
const WARMUP = 200;
/** Timed blocks per configuration; the best is kept (the machine is shared). */
const REPEATS = 3;

/** Microseconds per vector step of N copies of `id` through the bridge. */
async function bridgeMicros(id: string, n: number): Promise<number> {
  const venv = await GymVecEnv.start({
    python,
    id,
    numEnvs: n,
    modules: ["dw_test_envs"],
    env: { PYTHONPATH: FIXTURES },
  });
  try {
    const stats = new EpisodeStatistics(venv, { autoReset: true });
    await stats.reset(Array.from({ length: n }, (_, i) => i));
    const actions = new Float64Array(n * venv.actionDim).fill(0.5);
    for (let t = 0; t < WARMUP; t++) await stats.step(actions);
    let best = Infinity;
    for (let rep = 0; rep < REPEATS; rep++) {
      const t0 = performance.now();
      for (let t = 0; t < steps; t++) await stats.step(actions);
      best = Math.min(best, (performance.now() - t0) * 1000 / steps);
    }
    return best;
  } finally {
    await venv.close();
  }
}

/** Microseconds per vector step of the same loop in plain Python, for every id and N. */
async function pythonMicros(): Promise<Map<string, number>> {
  const code = `
import json, sys, time
import numpy as np, gymnasium as gym
import dw_test_envs
ids, sizes, steps, warmup, repeats = json.loads(sys.argv[1])
out = {}
for id in ids:
    for n in sizes:
        envs = [gym.make(id) for _ in range(n)]
        seeds = list(range(n))
        for i, e in enumerate(envs):
            e.reset(seed=seeds[i])
        a = np.full(envs[0].action_space.shape, 0.5, dtype=envs[0].action_space.dtype)
        def run(k):
            for _ in range(k):
                for i, e in enumerate(envs):
                    obs, r, term, trunc, info = e.step(a)
                    if term or trunc:
                        seeds[i] += n
                        e.reset(seed=seeds[i])
        run(warmup)
        best = float("inf")
        for _ in range(repeats):
            t0 = time.perf_counter()
            run(steps)
            best = min(best, (time.perf_counter() - t0) * 1e6 / steps)
        out[f"{id} {n}"] = best
print(json.dumps(out))
`;
  const result = await new Deno.Command(python, {
    args: ["-c", code, JSON.stringify([IDS, SIZES, steps, WARMUP, REPEATS])],
    env: { PYTHONPATH: FIXTURES },
    stdin: "null",
  }).output();
  const text = new TextDecoder();
  if (!result.success) throw new Error(`python baseline failed: ${text.decode(result.stderr)}`);
  return new Map(Object.entries(JSON.parse(text.decode(result.stdout)) as Record<string, number>));
}

const baseline = await pythonMicros();
console.log(
  `Gymnasium bridge: best of ${REPEATS} x ${steps} vector steps after ${WARMUP} of warm-up, ${python}`,
);
console.log(
  "env              N   bridge us/step   python us/step   overhead us/step   env steps/s",
);
for (const id of IDS) {
  for (const n of SIZES) {
    const bridge = await bridgeMicros(id, n);
    const plain = baseline.get(`${id} ${n}`) ?? NaN;
    console.log(
      `${id.padEnd(15)} ${String(n).padStart(2)} ${bridge.toFixed(1).padStart(16)} ${
        plain.toFixed(1).padStart(16)
      } ${(bridge - plain).toFixed(1).padStart(18)} ${
        Math.round(n * 1e6 / bridge).toString().padStart(13)
      }`,
    );
  }
}
