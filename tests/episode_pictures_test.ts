/**
 * The report's episode pictures, element by element, for known episodes: driving seed 3
 * (the SFT planner alone leaves the route after 19 steps) and traffic seed 0 (it hits one
 * of three other vehicles after 16 steps): the route band and centre line, the goal, the
 * car's path with one point per frame, the plans at the still's moments, the other
 * vehicles' boxes and paths, the end marker where the car ended; the animation's
 * transforms, plan switches and clock; the return distribution for an env without a view.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import {
  BuiltinSftPlanner,
  DEFAULT_ENV_CONFIG,
  defaultSettings,
  Driving,
  TRAFFIC_ENV,
} from "../src/env/mod.ts";
import type { VecEnv } from "../src/env/mod.ts";
import { Rng } from "../src/math/mod.ts";
import { ActorCritic } from "../src/nn/mod.ts";
import { EPISODES_FORMAT, namedPlanner, recordEpisode } from "../src/run/mod.ts";
import type { BasePlanner } from "../src/sft/mod.ts";
import {
  animationClock,
  parseEpisodes,
  renderSeedAnimation,
  renderSeedPicture,
  stillMoments,
} from "../src/report/mod.ts";
import type { SeedData, ViewData } from "../src/report/mod.ts";
import { main } from "../main.ts";

const NAMES = { base: "SFT planner", refined: "SFT + delta" };

/** Both policies' episodes of `seed` recorded, written as `train` writes them, read back. */
async function drawnSeed(
  o: { env: VecEnv; planner: BasePlanner; seed: number; deltaClip: number },
): Promise<{ view: ViewData; seed: SeedData }> {
  const model = new ActorCritic({
    inDim: o.env.obsDim,
    hidden: 16,
    actionShape: o.env.actionShape,
    rng: new Rng(11),
  });
  const common = { ...o, everyFrame: true };
  const base = await recordEpisode({ ...common, model: null });
  const refined = await recordEpisode({ ...common, model });
  const view = o.env.view!;
  const doc = {
    format: EPISODES_FORMAT,
    version: 1,
    total_episodes: 0,
    heldout_seeds: [o.seed, 1],
    returns: { base: [base.scene.return], refined: [refined.scene.return] },
    view: {
      unit: view.unit,
      seconds_per_step: view.secondsPerStep,
      legend: view.legend,
      seeds: [{
        seed: o.seed,
        why: "a test",
        animated: true,
        ...base.background,
        base: base.scene,
        refined: refined.scene,
      }],
    },
  };
  const parsed = parseEpisodes(JSON.parse(JSON.stringify(doc)));
  assert.ok("data" in parsed, "problem" in parsed ? parsed.problem : "");
  return { view: parsed.data.view!, seed: parsed.data.view!.seeds[0] };
}

/** Points of an SVG path's `d` ("M x,y L x,y ..."). */
function pathPoints(d: string): [number, number][] {
  return [...d.matchAll(/[ML]([-\d.]+),([-\d.]+)/g)].map((m) => [Number(m[1]), Number(m[2])]);
}

/** The markup of one policy's panel of a picture. */
function panelOf(svg: string, policy: "base" | "refined"): string {
  const start = svg.indexOf(`<g class="scene-panel" data-policy="${policy}"`);
  assert.ok(start >= 0, `no ${policy} panel`);
  const next = svg.indexOf(`<g class="scene-panel"`, start + 1);
  return svg.slice(start, next < 0 ? svg.indexOf(`<g class="legend"`, start) : next);
}

const count = (text: string, pattern: RegExp) => [...text.matchAll(pattern)].length;

Deno.test("driving seed 3: the route, the goal, the car's path, the plans at the moments, off route", async () => {
  const env = new Driving(DEFAULT_ENV_CONFIG, 1);
  const planner = new BuiltinSftPlanner(DEFAULT_ENV_CONFIG);
  const { view, seed } = await drawnSeed({ env, planner, seed: 3, deltaClip: 2 });
  const base = seed.base;
  assert.deepEqual([base.ended, base.steps], ["off route", 19]);
  assert.deepEqual(base.frames, Array.from({ length: 20 }, (_, i) => i));
  const svg = renderSeedPicture(view, seed, { names: NAMES, id: "t" });
  const panel = panelOf(svg, "base");
  // the route: its band (the corridor's width) and centre line, through every route point
  env.reset([3]);
  const route = env.view.background(0).lines[0];
  const band = /class="scene-band" d="([^"]*)"[^>]*stroke-width="([\d.]+)"/.exec(panel)!;
  assert.equal(pathPoints(band[1]).length, route.points.length / 2);
  assert.equal(count(panel, /class="scene-line"/g), 1);
  assert.equal(count(panel, /class="scene-point"><circle/g), 1);
  assert.match(panel, /<title>goal<\/title>/);
  // the car's path: one point per frame, from the start marker
  const path = pathPoints(/class="scene-path" data-body="0" d="([^"]*)"/.exec(panel)![1]);
  assert.equal(path.length, base.steps + 1);
  const start = /class="scene-start" cx="([-\d.]+)" cy="([-\d.]+)"/.exec(panel)!;
  assert.deepEqual([Number(start[1]), Number(start[2])], path[0]);
  // the SFT plan at the still's moments (H waypoints after the car), none of a final plan
  const moments = stillMoments(base.base.frames, base.steps);
  assert.deepEqual(moments, [0, 6, 13, 18]);
  for (const f of moments) {
    const plan = new RegExp(`data-policy="base" data-frame="${f}"><path d="([^"]*)"`).exec(panel);
    assert.ok(plan, `no plan at frame ${f}`);
    assert.equal(pathPoints(plan[1]).length, DEFAULT_ENV_CONFIG.horizon_steps + 1);
  }
  assert.equal(count(panel, /class="scene-plan" data-policy="final"/g), 0);
  assert.equal(count(panel, /class="scene-body agent"/g), moments.length + 1);
  // off route, marked where the car ended
  const end =
    /class="scene-end" data-kind="bad" data-label="off route"><path d="M([-\d.]+),([-\d.]+)/
      .exec(panel)!;
  const [x, y] = path[path.length - 1];
  assert.ok(Math.abs(Number(end[1]) + 8 - x) < 0.2 && Math.abs(Number(end[2]) + 8 - y) < 0.2);
  // the refined panel draws both plans at its moments
  const refined = panelOf(svg, "refined");
  const refinedMoments = stillMoments(seed.refined.final!.frames, seed.refined.steps);
  assert.equal(count(refined, /class="scene-plan" data-policy="final"/g), refinedMoments.length);
  assert.equal(count(refined, /class="scene-plan" data-policy="base"/g), refinedMoments.length);
  assert.equal(count(svg, /<clipPath id="t-clip-\d"/g), 2);
  assert.doesNotMatch(svg, /NaN|Infinity|undefined/);
});

Deno.test("traffic seed 0: the other vehicles' boxes and paths, and the collision", async () => {
  const settings = defaultSettings(TRAFFIC_ENV);
  const env = TRAFFIC_ENV.make(settings, 1);
  const planner = namedPlanner("sft", { definition: TRAFFIC_ENV, settings })!;
  const { view, seed } = await drawnSeed({ env, planner, seed: 0, deltaClip: 10 });
  const base = seed.base;
  assert.deepEqual([base.ended, base.steps, base.bodies.length], ["collision", 16, 4]);
  assert.deepEqual(view.legend.others, "other vehicles");
  const panel = panelOf(renderSeedPicture(view, seed, { names: NAMES, id: "t" }), "base");
  const moments = stillMoments(base.base.frames, base.steps);
  for (let b = 1; b < 4; b++) {
    const d = new RegExp(`class="scene-path" data-body="${b}" d="([^"]*)"`).exec(panel)![1];
    assert.equal(pathPoints(d).length, base.steps + 1);
  }
  assert.equal(count(panel, /class="scene-body other"/g), 3 * (moments.length + 1));
  assert.match(panel, /class="scene-end" data-kind="bad" data-label="collision"/);
});

Deno.test("the animation: a translation and a rotation per box, the plans switching, one clock", async () => {
  const settings = defaultSettings(TRAFFIC_ENV);
  const env = TRAFFIC_ENV.make(settings, 1);
  const planner = namedPlanner("sft", { definition: TRAFFIC_ENV, settings })!;
  const { view, seed } = await drawnSeed({ env, planner, seed: 0, deltaClip: 10 });
  const svg = renderSeedAnimation(view, seed, { names: NAMES, id: "a" });
  const clock = animationClock(view.secondsPerStep, Math.max(seed.base.steps, seed.refined.steps));
  const bodies = seed.base.bodies.length + seed.refined.bodies.length;
  const transforms = [...svg.matchAll(/<animateTransform [^>]*>/g)].map((m) => m[0]);
  assert.equal(transforms.length, 2 * bodies);
  assert.equal(transforms.filter((t) => /type="translate"/.test(t)).length, bodies);
  const durations = new Set([...svg.matchAll(/ dur="([\d.]+)s"/g)].map((m) => Number(m[1])));
  assert.deepEqual([...durations], [Math.round(clock.seconds * 1000) / 1000]);
  assert.ok(clock.seconds > seed.refined.steps * view.secondsPerStep, "real time, then a hold");
  // a box's translation runs through every frame, then holds the last
  const first = /type="translate" values="([^"]*)" keyTimes="([^"]*)"/.exec(svg)!;
  assert.equal(first[1].split(";").length, seed.base.frames.length + 1);
  const keys = first[2].split(";").map(Number);
  assert.equal(keys.length, seed.base.frames.length + 1);
  assert.deepEqual([keys[0], keys[keys.length - 1]], [0, 1]);
  // the plans: the SFT plan alone on the left, both on the right, one per step
  const plans = [
    ...svg.matchAll(/<animate attributeName="d" calcMode="discrete" values="([^"]*)"/g),
  ];
  assert.equal(plans.length, 3);
  assert.equal(plans[0][1].split(";").length, seed.base.steps);
  assert.equal(count(svg, /class="anim-end" opacity="0"><animate attributeName="opacity"/g), 2);
  assert.equal(count(svg, /class="anim-trail"/g), 2);
  assert.match(svg, /class="anim-clock"/);
});

Deno.test("a run of an env without a top-down view: the return distribution, no pictures", async () => {
  const dir = await Deno.makeTempDir({ prefix: "pictures_" });
  try {
    const out = join(dir, "run");
    const flags = "--total-steps 4000 --steps-per-update 1000 --num-envs 5 --eval-interval 10 " +
      "--save-interval 10 --eval-episodes 2 --heldout-episodes 6 --quiet";
    const args = [
      "train",
      "--env",
      "./examples/pendulum.ts",
      ...flags.split(" "),
      "--out-dir",
      out,
    ];
    const [error, log] = [console.error, console.log];
    console.error = console.log = () => {};
    try {
      assert.equal(await main(args), 0);
      assert.equal(await main(["report", out]), 0);
    } finally {
      console.error = error;
      console.log = log;
    }
    const doc = JSON.parse(Deno.readTextFileSync(join(out, "episodes.json")));
    assert.deepEqual(Object.keys(doc), [
      "format",
      "version",
      "total_episodes",
      "heldout_seeds",
      "returns",
    ]);
    assert.equal(doc.returns.base.length, 6);
    const svg = Deno.readTextFileSync(join(out, "report.svg"));
    assert.match(svg, /data-metric="base_returns"/);
    assert.match(svg, /data-metric="refined_returns"/);
    assert.match(svg, />Held-out return per episode \(6 episodes each; dashed: means\)</);
    assert.doesNotMatch(svg, /success/i, "pendulum has no goal: no success panel");
    const html = Deno.readTextFileSync(join(out, "report.html"));
    assert.doesNotMatch(html, /episode-picture|episode-animation|Held-out episodes/);
    assert.doesNotMatch(html, /success/i);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
