/**
 * The registry: every built-in env is an entry that describes itself (its sections'
 * defaults are the configs' defaults, its run defaults are what the runs used), a user's
 * module is checked field by field, and no code outside src/env/ names a particular env.
 * Also what the run derives from metric facts, and the action Box the shared layer
 * clips into.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import {
  BUILTIN_ENVS,
  builtinEnv,
  builtinEnvIds,
  checkDefinition,
  checkSettings,
  DEFAULT_ENV_CONFIG,
  DEFAULT_ENV_ID,
  DEFAULT_TRAFFIC_CONFIG,
  defaultSettings,
  DRIVING_METRICS,
  EpisodeStatistics,
  isEnvModuleSpec,
  MOUNTAIN_CAR_METRICS,
  TRAFFIC_ENV_DEFAULTS,
  TRAFFIC_METRICS,
} from "../src/env/mod.ts";
import type { EpisodeMetric } from "../src/env/mod.ts";
import { UserError } from "../src/errors.ts";
import {
  baselineMetrics,
  loggedMetrics,
  metricLabel,
  runConfigDefaults,
  tieBreakMetric,
} from "../src/run/mod.ts";
import { DEFAULT_PPO_CONFIG } from "../src/ppo/mod.ts";
import pendulum, { Pendulum } from "../examples/pendulum.ts";
import { ROOT } from "./_helpers.ts";

Deno.test("the built-in entries: ids, sections and defaults as the configs have them", () => {
  assert.deepEqual(builtinEnvIds(), ["driving", "mountain_car", "traffic"]);
  assert.equal(DEFAULT_ENV_ID, "driving");
  assert.deepEqual(defaultSettings(builtinEnv("driving")!), { env: { ...DEFAULT_ENV_CONFIG } });
  assert.deepEqual(defaultSettings(builtinEnv("traffic")!), {
    env: { ...TRAFFIC_ENV_DEFAULTS },
    traffic: { ...DEFAULT_TRAFFIC_CONFIG },
  });
  assert.deepEqual(defaultSettings(builtinEnv("mountain_car")!), {
    env: { max_episode_steps: 999 },
  });
  for (const def of BUILTIN_ENVS) {
    checkSettings(def, defaultSettings(def));
    assert.equal(def.make(defaultSettings(def), 1).metrics, def.metrics, def.id);
    assert.equal(def.sections[0].key, "env");
    assert.doesNotThrow(() => checkDefinition({ ...def, id: `x_${def.id}` }, def.id));
  }
  assert.equal(builtinEnv("gym:Pendulum-v1"), undefined);
});

Deno.test("run defaults come from the entries: out dir, PPO defaults, the episode cap", () => {
  const driving = runConfigDefaults(builtinEnv("driving")!);
  assert.equal(driving.out_dir, "out/rl_delta_waypoint_v0/run_001");
  assert.equal(driving.env_name, undefined);
  assert.deepEqual(driving.ppo, { ...DEFAULT_PPO_CONFIG });
  const traffic = runConfigDefaults(builtinEnv("traffic")!);
  assert.deepEqual(
    [traffic.out_dir, traffic.env_name, traffic.ppo.episodes, traffic.ppo.lr],
    ["out/traffic/run_001", "traffic", 4000, 3e-4],
  );
  assert.deepEqual([traffic.ppo.delta_clip, traffic.ppo.num_envs], [12, 20]);
  assert.deepEqual(Object.keys(traffic), [
    "out_dir",
    "sft_model",
    "env_name",
    "env",
    "traffic",
    "ppo",
  ]);
  const car = runConfigDefaults(builtinEnv("mountain_car")!);
  assert.deepEqual(car.env, { max_episode_steps: 999 });
  assert.deepEqual([car.ppo.episodes, car.ppo.delta_clip, car.ppo.init_log_std], [192, 1, 0.5]);
  // an env with a symmetric action Box and no SFT planner: delta_clip is its bound
  const pend = runConfigDefaults({ ...pendulum, ppoDefaults: undefined });
  assert.equal(pend.ppo.delta_clip, 2);
  assert.equal(pend.out_dir, "out/pendulum/run_001");
});

Deno.test("a module's default export is checked field by field, one line naming the module", () => {
  const good = { ...pendulum };
  assert.equal(checkDefinition(good, "--env ./p.ts"), good);
  const bad: Array<[unknown, RegExp]> = [
    [null, /its default export is not an env definition/],
    [{ ...good, id: "a b" }, /^--env \.\/p\.ts: id: expected a name/],
    [{ ...good, id: "traffic" }, /id: 'traffic' is a built-in env's id/],
    [{ ...good, make: 3 }, /make: expected a function/],
    [{ ...good, sections: [] }, /sections: expected a list/],
    [
      { ...good, sections: [{ ...good.sections[0], key: "other" }] },
      /the first section is keyed 'env'/,
    ],
    [
      { ...good, sections: [{ ...good.sections[0], table: { g: { type: "float", help: "" } } }] },
      /table\.g\.range: expected \[lowest, highest\]/,
    ],
    [{ ...good, ppoDefaults: { lr: "fast" } }, /ppoDefaults\.lr: expected a number/],
    [{ ...good, planners: { sft: { make: () => null } } }, /planners\.sft: expected/],
    [{ ...good, scenarios: {} }, /scenarios\.check: expected a function/],
  ];
  for (const [value, pattern] of bad) {
    assert.throws(() => checkDefinition(value, "--env ./p.ts"), (e: unknown) => {
      assert.ok(e instanceof UserError);
      assert.ok(!e.message.includes("\n"));
      assert.match(e.message, pattern);
      return true;
    });
  }
  for (const spec of ["./x.ts", "../x.ts", "/a/x.ts", "file:///a/x.ts", "https://h/x.ts"]) {
    assert.ok(isEnvModuleSpec(spec), spec);
  }
  for (const spec of ["driving", "gym:Pendulum-v1", "traffic"]) assert.ok(!isEnvModuleSpec(spec));
});

Deno.test("what the run derives from metric facts: logged, baseline, tie-break, labels", () => {
  const names = (ms: EpisodeMetric[]) => ms.map((m) => m.name);
  assert.deepEqual(names(loggedMetrics(DRIVING_METRICS)), ["ade", "fde"]);
  assert.deepEqual(names(baselineMetrics(DRIVING_METRICS)), ["ade"]);
  assert.equal(tieBreakMetric(DRIVING_METRICS)?.mean, "ade_mean");
  assert.deepEqual(names(baselineMetrics(TRAFFIC_METRICS)), [
    "ade",
    "route_completion",
    "collisions",
  ]);
  assert.equal(tieBreakMetric(TRAFFIC_METRICS)?.name, "ade");
  assert.equal(tieBreakMetric(MOUNTAIN_CAR_METRICS), undefined); // higher is better
  assert.deepEqual(loggedMetrics(DRIVING_METRICS).map(metricLabel), ["ADE m", "FDE m"]);
  assert.deepEqual(baselineMetrics(TRAFFIC_METRICS).map(metricLabel).slice(1), [
    "route completion",
    "collisions",
  ]);
  assert.equal(metricLabel(MOUNTAIN_CAR_METRICS[0]), "max position");
});

Deno.test("an env's action Box: the env gets a clipped copy, the caller's array is untouched", () => {
  let seen: Float64Array | null = null;
  class Spy extends Pendulum {
    override step(actions: Float64Array, mask?: Uint8Array): void {
      seen = actions.slice();
      super.step(actions, mask);
    }
  }
  const vec = new EpisodeStatistics(new Spy(2, { max_episode_steps: 5, g: 10 }));
  vec.reset([1, 2]);
  const actions = new Float64Array([7, -0.5]);
  vec.step(actions);
  assert.deepEqual([...actions], [7, -0.5]);
  assert.deepEqual([...seen!], [2, -0.5]);
});

// The code of a source file, comments left out: its identifiers and text literals.
function codeTokens(path: string, text: string): string[] {
  const tokens: string[] = [];
  const plugin: Deno.lint.Plugin = {
    name: "tokens",
    rules: {
      read: {
        create: () => ({
          Identifier: (node) => void tokens.push(node.name),
          Literal: (node) => {
            if (typeof node.value === "string") tokens.push(node.value);
          },
          TemplateElement: (node) => void tokens.push(node.raw),
        }),
      },
    },
  };
  Deno.lint.runPlugin(plugin, path, text);
  return tokens;
}

// What names a particular env: the built-in envs' ids and words, their config keys and
// metric summary keys, the driving env's types and planners.
const ENV_SPECIFIC = [
  /mountain.?car/i,
  /traffic/i,
  /driving/i,
  /^EnvConfig$|ENV_CONFIG|validateEnvConfig/,
  /BuiltinSftPlanner|ExpertPlanner|ZPrefixPlanner|NEIGHBOR_FEATURES/,
  /world_size|waypoint_spacing|ade_mean|fde_mean|collision_rate|route_completion|max_position/,
];

Deno.test("outside src/env/ no code names a particular env", () => {
  const found: string[] = [];
  const walk = (dir: string) => {
    for (const e of Deno.readDirSync(join(ROOT, dir))) {
      const rel = `${dir}/${e.name}`;
      if (rel === "src/env") continue;
      if (e.isDirectory) walk(rel);
      else if (e.name.endsWith(".ts")) {
        const tokens = codeTokens(rel, Deno.readTextFileSync(join(ROOT, rel)));
        for (const t of new Set(tokens)) {
          if (ENV_SPECIFIC.some((p) => p.test(t))) found.push(`${rel}: ${t.slice(0, 80)}`);
        }
      }
    }
  };
  walk("src");
  assert.deepEqual(found, []);
});
