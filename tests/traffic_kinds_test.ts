/**
 * Training odds of the traffic scenario kinds (`traffic.train_kind_weights`): training
 * seeds draw their kind by them, held-out seeds keep equal odds, equal weights change
 * nothing, and bad lists are refused naming the key.
 */

import assert from "node:assert/strict";
import {
  DEFAULT_TRAFFIC_CONFIG,
  generateScenario,
  HELDOUT_SEED_BASE,
  kindWeights,
  SCENARIO_KINDS,
  TRAFFIC_ENV_DEFAULTS,
  validateTrafficConfig,
} from "../src/env/mod.ts";

const cfgWith = (w: string) => ({
  env: TRAFFIC_ENV_DEFAULTS,
  traffic: { ...DEFAULT_TRAFFIC_CONFIG, train_kind_weights: w },
});

Deno.test("train_kind_weights: training seeds follow the odds, held-out seeds keep equal odds", () => {
  const plain = cfgWith("1,1,1,1"), only = cfgWith("0,0,1,0"), more = cfgWith("1,1,3,1");
  const training = Array.from({ length: 400 }, (_, s) => 1000 + 7919 * s);
  const heldout = Array.from({ length: 200 }, (_, s) => HELDOUT_SEED_BASE + s);
  // equal weights, whatever their size, are the generator's own draw
  for (const s of [...training.slice(0, 20), ...heldout.slice(0, 20)]) {
    assert.deepEqual(generateScenario(s, cfgWith("2,2,2,2")), generateScenario(s, plain));
  }
  // a zero weight never comes up in training
  for (const s of training) assert.equal(generateScenario(s, only).kind, "stopped_in_lane");
  // 3 to 1: about half of the training scenarios, against about a quarter
  const share = (cfg: typeof plain) =>
    training.filter((s) => generateScenario(s, cfg).kind === "stopped_in_lane").length /
    training.length;
  assert.ok(Math.abs(share(more) - 0.5) < 0.08, `share ${share(more)}`);
  assert.ok(Math.abs(share(plain) - 0.25) < 0.08, `share ${share(plain)}`);
  // held-out seeds: the same scenarios whatever the training odds
  for (const s of heldout) {
    assert.deepEqual(generateScenario(s, only), generateScenario(s, plain));
  }
  const kinds = new Set(heldout.map((s) => generateScenario(s, only).kind));
  assert.deepEqual([...kinds].sort(), [...SCENARIO_KINDS].sort());
});

Deno.test("train_kind_weights: one number >= 0 per kind, not all 0, else refused naming the key", () => {
  assert.deepEqual(kindWeights({ train_kind_weights: "1, 0.5,3,1" }), [1, 0.5, 3, 1]);
  for (const bad of ["1,1,1", "1,1,1,1,1", "1,-1,1,1", "a,1,1,1", "0,0,0,0", "", "1,1,1,1e9"]) {
    assert.throws(
      () => validateTrafficConfig({ ...DEFAULT_TRAFFIC_CONFIG, train_kind_weights: bad }),
      /traffic\.train_kind_weights/,
      bad,
    );
  }
});
