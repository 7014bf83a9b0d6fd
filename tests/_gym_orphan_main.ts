/**
 * For tests/gym_bridge_test.ts: starts a Gymnasium worker, prints its pid, and exits
 * without closing it, while the worker idles (`idle`) or hangs inside `env.step` (`hung`).
 * The worker must end on its own: at end of file on stdin, or when its parent is gone.
 *
 *     deno run -A tests/_gym_orphan_main.ts PYTHON FIXTURE_DIR idle|hung
 */

import { GymVecEnv } from "../src/env/gym/mod.ts";

const [python, fixtures, mode] = Deno.args;
const venv = await GymVecEnv.start({
  python,
  id: "DWTest/Faulty-v0",
  numEnvs: 1,
  modules: ["dw_test_envs"],
  kwargs: { fault: "hang", row: 0, at_step: 1 },
  env: { PYTHONPATH: fixtures },
});
await venv.reset([0]);
console.log(venv.pid);
if (mode === "hung") {
  venv.step(new Float64Array(2)).catch(() => {});
  await new Promise((resolve) => setTimeout(resolve, 300));
}
Deno.exit(0);
