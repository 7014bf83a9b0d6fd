/**
 * A checkpoint's settings over its env's defaults: a key an older file lacks takes the
 * value the env names for it (`EnvSection.absentInCheckpoint`: traffic's path block, off
 * in files from before it), not the table's default; a key it has is kept.
 */

import assert from "node:assert/strict";
import { builtinEnv, TRAFFIC_ENV_DEFAULTS } from "../src/env/mod.ts";
import { checkpointSettings } from "../src/run/mod.ts";
import type { LoadedCheckpoint } from "../src/run/mod.ts";
import { PtDict } from "../src/io/mod.ts";

const ckpt = (trafficCfg: Record<string, unknown> | undefined): LoadedCheckpoint => ({
  source: "old.pt",
  deltaHead: new PtDict(),
  valueHead: new PtDict(),
  optimizer: null,
  cfg: null,
  envCfg: { ...TRAFFIC_ENV_DEFAULTS },
  episode: null,
  extra: trafficCfg === undefined ? {} : { traffic_cfg: trafficCfg },
});

Deno.test("checkpointSettings: traffic files from before the path block load without it", () => {
  const traffic = builtinEnv("traffic")!;
  const old = checkpointSettings(ckpt({ neighbors: 4, ttc_penalty: 0 }), traffic).traffic;
  assert.equal(old.path_features, false);
  assert.equal(old.neighbors, 4);
  assert.equal(old.train_kind_weights, "2,1,3,1"); // the table's default for the others
  const now = checkpointSettings(ckpt({ neighbors: 4, path_features: true }), traffic).traffic;
  assert.equal(now.path_features, true);
  // no traffic_cfg at all: the env's defaults
  assert.equal(checkpointSettings(ckpt(undefined), traffic).traffic.path_features, true);
  // files from before the expert's keys: 1 s, 2.5 m and a stop at the car (the defaults they
  // were trained with); a stored value is kept
  assert.equal(old.expert_headway, 1);
  assert.equal(old.expert_min_gap, 2.5);
  assert.equal(old.expert_stop_behind, 0);
  const lazy = checkpointSettings(ckpt({ expert_headway: 0.5 }), traffic).traffic;
  assert.equal(lazy.expert_headway, 0.5);
});
