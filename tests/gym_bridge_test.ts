/**
 * The Gymnasium bridge (`src/env/gym/`, `python/gym_worker.py`) against real Gymnasium:
 * Pendulum-v1 with masks, runs that repeat, MountainCarContinuous-v0 against the project's
 * own MountainCar (to float32 precision per step; the drift over 999 steps), the goal
 * reached at exactly the step limit, every error a user can meet, and no worker left
 * behind. Needs the test Python (`testPython()`): fails, never skips, without it.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { ROOT } from "./_helpers.ts";
import { testPython } from "./_python.ts";
import { GymVecEnv, type GymVecEnvOptions, GymWorkerError } from "../src/env/gym/mod.ts";
import { EpisodeStatistics } from "../src/env/episode_statistics.ts";
import { MountainCar } from "../src/env/mod.ts";
import { EXIT, UserError } from "../src/errors.ts";
import { Rng } from "../src/math/rng.ts";

const FIXTURES = join(ROOT, "tests", "fixtures", "gym_envs");
const TEST_ENVS = { modules: ["dw_test_envs"], env: { PYTHONPATH: FIXTURES } };

function start(id: string, numEnvs: number, extra: Partial<GymVecEnvOptions> = {}) {
  return GymVecEnv.start({ python: testPython(), id, numEnvs, ...extra });
}

/** The error `run` ends with (fails when it ends without one). */
async function errorOf(run: () => Promise<unknown>): Promise<Error> {
  try {
    await run();
  } catch (e) {
    assert.ok(e instanceof Error, `not an Error: ${e}`);
    return e;
  }
  throw new assert.AssertionError({ message: "expected an error" });
}

/** A bad-input error: a UserError with exit code 2, one line. */
function assertUserError(e: Error, pattern: RegExp): void {
  assert.ok(e instanceof UserError, `not a UserError: ${e.name}: ${e.message}`);
  assert.ok(!(e instanceof GymWorkerError), `a GymWorkerError: ${e.message}`);
  assert.equal(e.exitCode, EXIT.badInput);
  assert.ok(!e.message.includes("\n"), `more than one line: ${JSON.stringify(e.message)}`);
  assert.match(e.message, pattern);
}

/**
 * A process's state by `ps` (reading /proc needs --allow-all, which `deno task test` does not
 * give): "running", "zombie" (exited, not reaped), or "gone".
 */
async function processState(pid: number): Promise<"running" | "zombie" | "gone"> {
  const out = await new Deno.Command("ps", { args: ["-o", "stat=", "-p", String(pid)] }).output();
  const stat = new TextDecoder().decode(out.stdout).trim();
  if (!out.success || stat === "") return "gone";
  return stat.startsWith("Z") ? "zombie" : "running";
}

Deno.test("Pendulum-v1: the handshake gives sizes, Box bounds, the time limit and versions", async () => {
  const venv = await start("Pendulum-v1", 2);
  try {
    assert.equal(venv.obsDim, 3);
    assert.equal(venv.actionDim, 1);
    assert.deepEqual(venv.actionShape, [1]);
    assert.deepEqual([...venv.observationSpace.low], [-1, -1, -8]);
    assert.deepEqual([...venv.observationSpace.high], [1, 1, 8]);
    assert.deepEqual([...venv.actionSpace.low], [-2]);
    assert.deepEqual([...venv.actionSpace.high], [2]);
    assert.equal(venv.maxEpisodeSteps, 200);
    assert.match(venv.versions.gymnasium, /^1\./);
    assert.equal(venv.success, undefined, "no success flag unless asked");
  } finally {
    await venv.close();
  }
});

Deno.test("Pendulum-v1: reset and step with masks; a masked-out row does not move", async () => {
  const venv = await start("Pendulum-v1", 3);
  const single = await start("Pendulum-v1", 1);
  try {
    await venv.reset([10, 11, 12]);
    for (let i = 0; i < 3; i++) {
      const [c, s] = [venv.obs[3 * i], venv.obs[3 * i + 1]];
      assert.ok(Math.abs(c * c + s * s - 1) < 1e-6, `row ${i} is not (cos, sin, speed)`);
    }
    // the same seed gives the same first observation in any row of any worker
    await single.reset([11]);
    assert.deepEqual([...single.obs], [...venv.obs.subarray(3, 6)]);

    const before = venv.obs.slice();
    venv.rewards[1] = 123;
    await venv.step(new Float64Array([1, 1, -1]), new Uint8Array([1, 0, 1]));
    assert.deepEqual([...venv.obs.subarray(3, 6)], [...before.subarray(3, 6)], "row 1 moved");
    assert.equal(venv.rewards[1], 123, "row 1's reward was written");
    assert.notDeepEqual([...venv.obs.subarray(0, 3)], [...before.subarray(0, 3)]);
    assert.notDeepEqual([...venv.obs.subarray(6, 9)], [...before.subarray(6, 9)]);
    assert.ok(venv.rewards[0] < 0 && venv.rewards[2] < 0);

    // a masked reset restarts row 2 alone, as a fresh reset with that seed would
    const moved = venv.obs.slice();
    await venv.reset([0, 0, 11], new Uint8Array([0, 0, 1]));
    assert.deepEqual([...venv.obs.subarray(0, 6)], [...moved.subarray(0, 6)]);
    assert.deepEqual([...venv.obs.subarray(6, 9)], [...single.obs]);
  } finally {
    await venv.close();
    await single.close();
  }
});

Deno.test("Pendulum-v1: two bridges given the same seeds and actions give identical runs", async () => {
  const n = 4, steps = 250; // past the 200-step limit: every row is reset on a new seed
  const runs: number[][] = [];
  for (let r = 0; r < 2; r++) {
    const venv = await start("Pendulum-v1", n);
    const stats = new EpisodeStatistics(venv, { autoReset: true });
    const rng = new Rng(42);
    const actions = new Float64Array(n);
    const trace: number[] = [];
    try {
      await stats.reset([7, 8, 9, 10]);
      trace.push(...stats.obs);
      for (let t = 0; t < steps; t++) {
        for (let i = 0; i < n; i++) actions[i] = rng.range(-2, 2);
        await stats.step(actions);
        trace.push(...stats.obs, ...stats.rewards, ...stats.done);
      }
      assert.deepEqual([...stats.seeds], [11, 12, 13, 14], "each row restarted once");
    } finally {
      await stats.close();
    }
    runs.push(trace);
  }
  assert.equal(runs[0].length, runs[1].length);
  assert.deepEqual(runs[0], runs[1]);
});

/**
 * The project's MountainCar (float64 state) started at `start`: its dynamics state is its
 * observation.
 */
function mountainCarAt(start: Float64Array): MountainCar {
  const n = start.length / 2;
  const ours = new MountainCar(n, 1_000_000);
  ours.reset(Array.from({ length: n }, (_, i) => i));
  ours.obs.set(start);
  return ours;
}

/** Largest |a - b| over the rows where `rows` is 1. */
function maxGap(a: Float64Array, b: Float64Array, rows: Uint8Array, d: number): number {
  let gap = 0;
  for (let i = 0; i < rows.length; i++) {
    if (!rows[i]) continue;
    for (let j = i * d; j < (i + 1) * d; j++) gap = Math.max(gap, Math.abs(a[j] - b[j]));
  }
  return gap;
}

// Gymnasium keeps the car's state as float32 after every step (our MountainCar keeps
// float64), so one step from the same state agrees to half a float32 ulp (plus ~1e-10 from
// the velocity: Gymnasium rounds 3 * position to float32 inside the cos, and its first step
// starts from the unrounded float64 reset state), and trajectories drift apart. Measured
// over 96 episodes of 999 steps (random and pumping actions, seeds from the clock): at most
// 1.0e-5 (3e-6 typical); one step: position 6.0e-8, velocity 3.6e-9, half an ulp. The
// tolerance of a whole trajectory is 10 times the worst drift.
const TRAJECTORY_TOLERANCE = 1e-4;
const float32Close = (gym: number, ours: number) =>
  Math.abs(gym - ours) <= 2 ** -24 * Math.abs(ours) + 1e-9;

Deno.test("MountainCarContinuous-v0 through the bridge equals the project's MountainCar", async () => {
  const n = 8, steps = 999;
  const venv = await start("MountainCarContinuous-v0", n);
  try {
    assert.equal(venv.maxEpisodeSteps, 999);
    assert.deepEqual(
      [...venv.observationSpace.low].map(Math.fround),
      [-1.2, -0.07].map(Math.fround),
    );
    await venv.reset(Array.from({ length: n }, (_, i) => 300 + i));
    const trajectory = mountainCarAt(venv.obs); // stepped from its own state all along
    const oneStep = mountainCarAt(venv.obs); // restarted from Gymnasium's state every step
    const rng = new Rng(3);
    const actions = new Float64Array(n);
    const alive = new Uint8Array(n).fill(1);
    let drift = 0, oneStepGap = 0;
    for (let t = 1; t <= steps; t++) {
      // rows 0-3: random forces; rows 4-7: pushing along the velocity (reaches the goal)
      for (let i = 0; i < n; i++) {
        const push = venv.obs[2 * i + 1] >= 0 ? 1 : -1;
        actions[i] = Math.fround(i < 4 ? rng.range(-1, 1) : push * rng.range(0.6, 1));
      }
      oneStep.obs.set(venv.obs);
      await venv.step(actions, alive);
      trajectory.step(actions);
      oneStep.step(actions);
      for (let i = 0; i < n; i++) {
        if (!alive[i]) continue;
        for (let j = 2 * i; j < 2 * i + 2; j++) {
          assert.ok(
            float32Close(venv.obs[j], oneStep.obs[j]),
            `row ${i} step ${t}: one step gives ${venv.obs[j]} in Gymnasium, ${
              oneStep.obs[j]
            } here`,
          );
        }
        // the same float32 action: equal but for the order of the products (0.1 a a vs a a 0.1)
        assert.ok(
          Math.abs(venv.rewards[i] - trajectory.rewards[i]) <= 1e-12,
          `row ${i} step ${t}: reward ${venv.rewards[i]} in Gymnasium, ${
            trajectory.rewards[i]
          } here`,
        );
        assert.equal(
          venv.terminated[i],
          trajectory.terminated[i],
          `row ${i} step ${t}: terminated`,
        );
        assert.equal(venv.truncated[i], t === steps ? 1 : 0, `row ${i} step ${t}: truncated`);
      }
      drift = Math.max(drift, maxGap(venv.obs, trajectory.obs, alive, 2));
      oneStepGap = Math.max(oneStepGap, maxGap(venv.obs, oneStep.obs, alive, 2));
      for (let i = 0; i < n; i++) if (venv.terminated[i]) alive[i] = 0;
    }
    assert.deepEqual([...alive], [1, 1, 1, 1, 0, 0, 0, 0], "the pushing rows reach the goal");
    assert.ok(drift <= TRAJECTORY_TOLERANCE, `drift ${drift} over ${steps} steps`);
    assert.ok(drift > 0, "no drift at all: is Gymnasium still storing float32?");
    assert.ok(oneStepGap <= 2 ** -23, `one step: ${oneStepGap}, more than half a float32 ulp`);
  } finally {
    await venv.close();
  }
});

Deno.test("MountainCarContinuous-v0: the goal reached at step 999 is terminated and truncated, in Gymnasium and in EpisodeStatistics", async () => {
  // Search: rest for k steps, then push along the velocity; row i tries k = 880 + i. The
  // first row whose episode ends by reaching the goal at exactly step 999 gives the actions.
  const n = 16, seed = 2, limit = 999;
  const venv = await start("MountainCarContinuous-v0", n);
  let found = -1;
  const log: Float64Array[] = [];
  try {
    await venv.reset(new Array(n).fill(seed));
    const start0 = venv.obs.slice(0, 2);
    const actions = new Float64Array(n);
    const alive = new Uint8Array(n).fill(1);
    const endStep = new Int32Array(n);
    for (let t = 1; t <= limit; t++) {
      for (let i = 0; i < n; i++) {
        actions[i] = t <= 880 + i ? 0 : venv.obs[2 * i + 1] >= 0 ? 1 : -1;
      }
      log.push(actions.slice());
      await venv.step(actions, alive);
      for (let i = 0; i < n; i++) {
        if (!alive[i] || !(venv.terminated[i] || venv.truncated[i])) continue;
        alive[i] = 0;
        endStep[i] = t;
        if (t === limit && venv.terminated[i] && found < 0) found = i;
      }
    }
    assert.ok(found >= 0, `no row reached the goal at step ${limit}: ends ${[...endStep]}`);
    const actionsOf = log.map((a) => a[found]);

    // Gymnasium, replayed through EpisodeStatistics over the bridge: both flags at step 999
    const one = await start("MountainCarContinuous-v0", 1);
    try {
      const stats = new EpisodeStatistics(one);
      await stats.reset([seed]);
      assert.deepEqual([...stats.obs], [...start0]);
      for (let t = 1; t <= limit; t++) {
        await stats.step(new Float64Array([actionsOf[t - 1]]));
        if (t < limit) assert.equal(stats.done[0], 0, `ended early at step ${t}`);
      }
      assert.equal(one.terminated[0], 1, "Gymnasium: terminated");
      assert.equal(one.truncated[0], 1, "Gymnasium: truncated (TimeLimit) as well");
      assert.equal(stats.terminated[0], 1);
      assert.equal(stats.truncated[0], 1);
      assert.equal(stats.episodeLengths[0], limit);
    } finally {
      await one.close();
    }

    // The project's MountainCar with the same actions, through EpisodeStatistics's cap alone
    const stats = new EpisodeStatistics(new MountainCar(1));
    stats.reset([seed]);
    stats.env.obs.set(start0);
    for (let t = 1; t <= limit; t++) {
      await stats.step(new Float64Array([actionsOf[t - 1]]));
      if (t < limit) assert.equal(stats.done[0], 0, `ours ended early at step ${t}`);
    }
    assert.equal(stats.terminated[0], 1, "ours: terminated at step 999");
    assert.equal(stats.truncated[0], 1, "EpisodeStatistics: truncated at the cap as well");
    assert.equal(stats.success[0], 1);
    assert.equal(stats.episodeLengths[0], limit);
  } finally {
    await venv.close();
  }
});

Deno.test("actions are clipped into the Box and cast to its dtype; (2, 3) observations arrive flattened", async () => {
  const venv = await start("DWTest/Image-v0", 2, TEST_ENVS);
  try {
    assert.equal(venv.obsDim, 6);
    assert.deepEqual(venv.observationShape, [2, 3]);
    assert.deepEqual(venv.actionShape, [2, 2]);
    await venv.reset([0, 1]);
    assert.deepEqual([...venv.obs.subarray(0, 6)], [0, 1, 2, 3, 4, 5]);
    // the env asserts action_space.contains(action): float32, inside [-1, 1]
    await venv.step(new Float64Array([5, -5, 0.25, -0.5, 0, 0, 0, 0]));
    assert.deepEqual([...venv.obs.subarray(0, 6)], [1, -1, 0, 0.25, -0.5, 0]);
  } finally {
    await venv.close();
  }
});

Deno.test("frames larger than a pipe's buffer (4 x 5000 float64 observations) travel whole", async () => {
  const venv = await start("DWTest/Null-v0", 4, { ...TEST_ENVS, kwargs: { obs_dim: 5000 } });
  try {
    assert.equal(venv.obsDim, 5000);
    await venv.reset([0, 1, 2, 3]);
    for (let t = 0; t < 5; t++) await venv.step(new Float64Array(4));
    assert.equal(venv.obs.length, 20000);
    assert.ok(venv.obs.every((x, k) => x === (k % 5000) % 3 - 1), "an observation was garbled");
  } finally {
    await venv.close();
  }
});

Deno.test("success comes from info['is_success'] when asked for", async () => {
  const venv = await start("DWTest/Goal-v0", 2, { ...TEST_ENVS, success: true });
  try {
    assert.ok(venv.success);
    const stats = new EpisodeStatistics(venv);
    assert.ok(stats.hasSuccess);
    await stats.reset([0, 1]);
    for (let t = 0; t < 2; t++) await stats.step(new Float64Array([0.5, 0.1]));
    assert.deepEqual([...venv.success], [1, 0]);
    assert.deepEqual([...stats.done], [1, 0]);
    assert.equal(stats.success[0], 1);
  } finally {
    await venv.close();
  }
});

Deno.test("an env that prints on stdout (Python's and fd 1) cannot corrupt the frames", async () => {
  const venv = await start("DWTest/Chatty-v0", 3, TEST_ENVS);
  try {
    await venv.reset([0, 1, 2]);
    for (let t = 0; t < 50; t++) await venv.step(new Float64Array(3));
    assert.deepEqual([...venv.obs], [-1, 0, 1, -1, 0, 1, -1, 0, 1]);
    assert.ok(venv.stderrTail.some((line) => line.includes("chatty")), "the prints went to stderr");
  } finally {
    await venv.close();
  }
});

Deno.test("errors before the run: one line, UserError, exit code 2", async () => {
  assertUserError(
    await errorOf(() =>
      GymVecEnv.start({ python: "/nonexistent/bin/python", id: "Pendulum-v1", numEnvs: 1 })
    ),
    /^--gym-python \/nonexistent\/bin\/python: no such file$/,
  );
  assertUserError(
    await errorOf(() =>
      start("Pendulum-v1", 1, { env: { PYTHONPATH: join(FIXTURES, "no_gymnasium") } })
    ),
    new RegExp(`^gymnasium is not importable by .*python.* \\(ImportError: .*\\): install it`),
  );
  assertUserError(
    await errorOf(() => start("NoSuchEnv-v0", 1)),
    /^gym:NoSuchEnv-v0: gymnasium\.make failed: NameNotFound: Environment `NoSuchEnv` doesn't exist\.$/,
  );
  assertUserError(
    await errorOf(() => start("Pendulum-v1", 1, { kwargs: { bogus: 1 } })),
    /^gym:Pendulum-v1: gymnasium\.make failed: TypeError: .*unexpected keyword argument 'bogus'/,
  );
  assertUserError(
    await errorOf(() => start("Pendulum-v1", 1, { ...TEST_ENVS, modules: ["dw_broken_module"] })),
    /^--gym-module dw_broken_module: RuntimeError: dw_broken_module fails on import on purpose$/,
  );
  assertUserError(
    await errorOf(() => start("Pendulum-v1", 1, { modules: ["no_such_module_xyz"] })),
    /^--gym-module no_such_module_xyz: ModuleNotFoundError: No module named 'no_such_module_xyz'$/,
  );
  assertUserError(
    await errorOf(() => start("CartPole-v1", 1)),
    /^gym:CartPole-v1: the action space is Discrete\(2\); only Box observation and action spaces are supported$/,
  );
  assertUserError(
    await errorOf(() => start("DWTest/DictObs-v0", 1, TEST_ENVS)),
    /^gym:DWTest\/DictObs-v0: the observation space is Dict\(.*\); only Box/,
  );
  assertUserError(
    await errorOf(() => start("DWTest/NoLimit-v0", 1, TEST_ENVS)),
    /^gym:DWTest\/NoLimit-v0 has no time limit .*--gym-kwargs '\{"max_episode_steps": 1000\}'$/,
  );
  assertUserError(
    await errorOf(() => GymVecEnv.start({ python: "/bin/false", id: "Pendulum-v1", numEnvs: 1 })),
    /^--gym-python \/bin\/false: the worker exited with code 1 before the handshake: \(nothing on its stderr\)$/,
  );
  const t0 = performance.now();
  assertUserError(
    await errorOf(() =>
      start("Pendulum-v1", 1, { ...TEST_ENVS, modules: ["dw_slow_module"], timeoutMs: 1000 })
    ),
    /^gym:Pendulum-v1: the worker did not answer the handshake within 1000 ms and was killed: dw_slow_module: sleeping on import$/,
  );
  assert.ok(performance.now() - t0 < 4000, "the handshake's deadline was not kept");
  const limited = await start("DWTest/NoLimit-v0", 1, {
    ...TEST_ENVS,
    kwargs: { max_episode_steps: 7 },
  });
  assert.equal(limited.maxEpisodeSteps, 7);
  await limited.close();
});

/** Starts a faulty test env, resets it, and returns the error of its steps. */
async function faultOf(
  fault: string,
  row: number,
  atStep: number,
  timeoutMs?: number,
): Promise<{ error: Error; pid: number; ms: number }> {
  const venv = await start("DWTest/Faulty-v0", 3, {
    ...TEST_ENVS,
    kwargs: { fault, row, at_step: atStep },
    timeoutMs,
  });
  assert.equal(await processState(venv.pid), "running");
  const t0 = performance.now();
  try {
    const error = await errorOf(async () => {
      await venv.reset([5, 6, 7]);
      for (let t = 0; t < 10; t++) await venv.step(new Float64Array(6));
    });
    // the env is dead: later calls give the same error
    assert.equal(await errorOf(() => venv.step(new Float64Array(6))), error);
    return { error, pid: venv.pid, ms: performance.now() - t0 };
  } finally {
    await venv.close();
  }
}

Deno.test("errors from the env in a run name the env id, the row and the step", async () => {
  assertUserError(
    (await faultOf("shape", 2, 3)).error,
    /^gym:DWTest\/Faulty-v0 row 2 step 3 \(episode seed 7\): the observation has 3 numbers, expected 4 /,
  );
  assertUserError(
    (await faultOf("shape", 1, 0)).error,
    /^gym:DWTest\/Faulty-v0 row 1 reset \(episode seed 6\): the observation has 3 numbers, expected 4 /,
  );
  assertUserError(
    (await faultOf("nan", 1, 4)).error,
    /^gym:DWTest\/Faulty-v0 row 1 step 4 \(episode seed 6\): the observation has a non-finite value \(nan at index 1\)$/,
  );
  assertUserError(
    (await faultOf("inf_reward", 0, 2)).error,
    /^gym:DWTest\/Faulty-v0 row 0 step 2 \(episode seed 5\): the reward is inf$/,
  );
  assertUserError(
    (await faultOf("raise", 2, 5)).error,
    /^gym:DWTest\/Faulty-v0 row 2 step 5 \(episode seed 7\): env\.step raised ValueError: the env failed on purpose$/,
  );
});

Deno.test("a worker that dies mid-run: GymWorkerError (exit 4) ending with its last stderr line, no process left", async () => {
  const { error, pid } = await faultOf("die", 1, 2);
  assert.ok(error instanceof GymWorkerError, `${error.name}: ${error.message}`);
  assert.equal(error.reason, "exited");
  assert.equal(error.exitCode, EXIT.ioFault);
  assert.ok(!error.message.includes("\n"));
  assert.match(
    error.message,
    /^gym:DWTest\/Faulty-v0: the worker exited with code 3 during step 2: dying on purpose at step 2$/,
  );
  assert.equal(await processState(pid), "gone", `worker ${pid} is left`);
});

Deno.test("a worker that hangs: killed after timeoutMs, GymWorkerError ending with its last stderr line, no process left", async () => {
  const timeoutMs = 1500;
  const { error, pid, ms } = await faultOf("hang", 0, 3, timeoutMs);
  assert.ok(error instanceof GymWorkerError, `${error.name}: ${error.message}`);
  assert.equal(error.reason, "timeout");
  assert.equal(error.exitCode, EXIT.ioFault);
  assert.match(
    error.message,
    /^gym:DWTest\/Faulty-v0: the worker did not answer step 3 within 1500 ms and was killed: hanging on purpose at step 3$/,
  );
  assert.ok(ms < timeoutMs + 3000, `noticed after ${ms.toFixed(0)} ms`);
  assert.equal(await processState(pid), "gone", `worker ${pid} is left`);
});

Deno.test("close() ends the worker (no process left), twice is fine, and later calls fail clearly", async () => {
  const venv = await start("Pendulum-v1", 2);
  const pid = venv.pid;
  assert.equal(await processState(pid), "running");
  await venv.reset([0, 1]);
  await venv.close();
  await venv.close();
  assert.equal(await processState(pid), "gone", `worker ${pid} is left after close()`);
  assert.match((await errorOf(() => venv.step(new Float64Array(2)))).message, /closed/);
});

Deno.test("a call while the previous one is pending is refused", async () => {
  const venv = await start("Pendulum-v1", 1);
  try {
    await venv.reset([0]);
    const first = venv.step(new Float64Array(1));
    assert.match(
      (await errorOf(() => venv.step(new Float64Array(1)))).message,
      /previous call has not resolved/,
    );
    await first;
  } finally {
    await venv.close();
  }
});

Deno.test("when the Deno process exits without close(), the worker ends too (idle or hung in env.step)", async () => {
  for (const mode of ["idle", "hung"]) {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", join(ROOT, "tests", "_gym_orphan_main.ts"), testPython(), FIXTURES, mode],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder();
    assert.ok(out.success, `${mode}: ${text.decode(out.stderr)}`);
    const pid = Number(text.decode(out.stdout).trim());
    assert.ok(pid > 0, `${mode}: no pid printed`);
    const t0 = performance.now();
    // reparented to init, which reaps it (a zombie under an init that does not: ended too)
    while (await processState(pid) === "running" && performance.now() - t0 < 5000) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    assert.notEqual(
      await processState(pid),
      "running",
      `${mode}: worker ${pid} outlived its parent by 5 s`,
    );
  }
});
