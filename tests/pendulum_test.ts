/**
 * The example env learns with its own PPO defaults: `examples/pendulum.ts` (Gymnasium's
 * Pendulum-v1 dynamics) trained through the library, with the run's schedule (per-interval
 * evaluations, rollout boundaries) and its closing held-out evaluation, reaches a
 * held-out mean return of at least -250 within 200,000 env steps.
 */

import assert from "node:assert/strict";
import { tableDefaults } from "../src/config_table.ts";
import { DEFAULT_ENV_CONFIG } from "../src/env/mod.ts";
import type { EnvSettings } from "../src/env/mod.ts";
import { GENERIC_PPO_DEFAULTS, Trainer } from "../src/ppo/mod.ts";
import type { PpoConfig } from "../src/ppo/mod.ts";
import { heldoutEvaluation, RunLog, sftBaselineUntil, trainLoop } from "../src/run/mod.ts";
import { ZeroPlanner } from "../src/sft/mod.ts";
import pendulum, { PENDULUM_TABLE } from "../examples/pendulum.ts";

Deno.test("examples/pendulum.ts: held-out mean return >= -250 within 200,000 env steps", async () => {
  const settings: EnvSettings = {
    env: { ...tableDefaults(PENDULUM_TABLE) } as Record<string, unknown>,
  };
  const makeEnv = (n: number) => pendulum.make(settings, n);
  const ppo = {
    ...GENERIC_PPO_DEFAULTS,
    ...pendulum.ppoDefaults,
    encoder_out_dim: makeEnv(1).obsDim,
  } as PpoConfig;
  assert.ok(ppo.total_steps > 0 && ppo.total_steps <= 200_000, `budget ${ppo.total_steps}`);
  const trainer = new Trainer({
    env: DEFAULT_ENV_CONFIG,
    ppo,
    planner: new ZeroPlanner(makeEnv(1)),
    makeEnv,
  });
  const log = new RunLog();
  const shouldStop = () => false;
  const sft = await sftBaselineUntil(trainer, { shouldStop });
  const outcome = await trainLoop(trainer, log, {
    sft: sft!,
    shouldStop,
    onMetrics: () => Promise.resolve(),
    onBest: () => Promise.resolve(),
    onCheckpoint: () => Promise.resolve(),
  });
  assert.equal(outcome.stopped, false);
  const heldout = await heldoutEvaluation(trainer, { shouldStop });
  const curve = log.metrics.map((m) => m.heldout.return_mean.toFixed(0)).join(" ");
  const result = heldout!.refined.return_mean;
  console.log(`env steps ${trainer.envSteps}, held-out ${result.toFixed(1)}; curve ${curve}`);
  assert.ok(trainer.envSteps <= 200_000, `${trainer.envSteps} env steps`);
  assert.ok(
    result >= -250,
    `held-out mean return ${result} (zero torque: ${heldout!.sft.return_mean})`,
  );
});
