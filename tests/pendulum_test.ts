/**
 * The env template learns through the CLI, as the README tells a user to run it:
 * `train --env ./examples/pendulum.ts` (Gymnasium's Pendulum-v1 dynamics, with the
 * module's own PPO defaults) reaches a held-out mean return of at least -250 within
 * 200,000 env steps, read from the `train_metrics.json` it wrote.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { readJson, runCli, withTempDir } from "./_helpers.ts";

interface TrainMetrics {
  env_steps: number;
  heldout: { base: { return_mean: number }; refined: { return_mean: number } };
}

Deno.test("train --env ./examples/pendulum.ts: held-out mean return >= -250 within 200,000 env steps", async () => {
  await withTempDir(async (dir) => {
    const out = join(dir, "run");
    const r = await runCli([
      "train",
      "--env",
      "./examples/pendulum.ts",
      "--seed",
      "42",
      "--quiet",
      "--out-dir",
      out,
    ]);
    assert.equal(r.code, 0, r.stderr);
    const m = readJson(join(out, "train_metrics.json")) as TrainMetrics;
    const result = m.heldout.refined.return_mean;
    assert.ok(m.env_steps <= 200_000, `${m.env_steps} env steps`);
    assert.ok(
      result >= -250,
      `held-out mean return ${result} (zero torque: ${m.heldout.base.return_mean})`,
    );
  });
});
