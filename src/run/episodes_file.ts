/**
 * `episodes.json`, written at the end of a finished run beside `train_metrics.json`: the
 * return of every held-out episode of the base policy alone and of base + delta (the
 * report's return distribution), and, for an env with a top-down view, a few held-out
 * episodes of both recorded as drawing primitives (the report's episode pictures and
 * animation). `report` reads it as untrusted input and never runs an env.
 *
 * @module
 */

import { writeFileAtomic } from "../io/mod.ts";
import type { SceneLine, ScenePoint, TopDownView, VecEnv } from "../env/mod.ts";
import type { Trainer } from "../ppo/mod.ts";
import type { EvalResult } from "./episode_records.ts";
import { recordEpisode } from "./episode_scenes.ts";
import type { EpisodeScene } from "./episode_scenes.ts";

/** The file name, in the run folder. */
export const EPISODES_FILE = "episodes.json";

/** Its `format` tag. */
export const EPISODES_FORMAT = "delta-waypoint episodes";

/** Held-out episodes drawn (each for both policies); the first is also animated. */
const DRAWN_SEEDS = 3;

/** Most returns kept per policy. */
const MAX_RETURNS = 100_000;

/** One drawn held-out seed: its background and both policies' episodes on it. */
export interface SeedScenes {
  /** The episode seed. */
  seed: number;
  /** Why it was picked ("the largest gain in return"). */
  why: string;
  /** Recorded for the animation (actions at every frame). */
  animated: boolean;
  /** The background's polylines. */
  lines: SceneLine[];
  /** The background's points. */
  points: ScenePoint[];
  /** The base policy alone. */
  base: EpisodeScene;
  /** Base + delta (mean action). */
  refined: EpisodeScene;
}

/** What `episodes.json` holds. */
export interface EpisodesDocument {
  /** {@linkcode EPISODES_FORMAT}. */
  format: string;
  /** 1. */
  version: number;
  /** Training episodes of the policy recorded (the run's total). */
  total_episodes: number;
  /** [first seed, count] of the held-out evaluation. */
  heldout_seeds: [number, number];
  /** Every held-out episode's return, in seed order (at most 100,000 per policy). */
  returns: { base: number[]; refined: number[] };
  /** The drawn episodes, for an env with a top-down view. */
  view?: {
    unit: string;
    seconds_per_step: number;
    legend: TopDownView["legend"];
    seeds: SeedScenes[];
  };
}

/**
 * The held-out episodes worth drawing, by index: the largest gain in return of base +
 * delta over the base policy alone, then base + delta's lowest return and its median
 * return; distinct, the first index on ties.
 *
 * @example
 * ```ts
 * const r = (returns: number[]) => ({ scenarios: returns.map((v) => ({ return: v })) });
 * pickSeeds(r([1, 1, 1]) as never, r([2, 5, 0]) as never).map((p) => p.index); // [1, 2, 0]
 * ```
 */
export function pickSeeds(
  base: Pick<EvalResult, "scenarios">,
  refined: Pick<EvalResult, "scenarios">,
): { index: number; why: string }[] {
  const n = Math.min(base.scenarios.length, refined.scenarios.length);
  if (n === 0) return [];
  const gain = (i: number) => refined.scenarios[i].return - base.scenarios[i].return;
  let best = 0;
  for (let i = 1; i < n; i++) if (gain(i) > gain(best)) best = i;
  const byReturn = Array.from({ length: n }, (_, i) => i)
    .sort((a, b) => refined.scenarios[a].return - refined.scenarios[b].return || a - b);
  const picks = [
    { index: best, why: "the largest gain in return" },
    { index: byReturn[0], why: "the lowest return with the delta" },
    { index: byReturn[Math.floor((n - 1) / 2)], why: "the median return with the delta" },
  ];
  return picks.filter((p, k) => picks.findIndex((q) => q.index === p.index) === k)
    .slice(0, DRAWN_SEEDS);
}

/**
 * The document of a finished run: the held-out `results`' returns, and when `env` (one
 * copy of the evaluated env) has a view, the {@linkcode pickSeeds} episodes of both
 * policies rolled out again and recorded.
 *
 * @example
 * ```ts ignore
 * const doc = await episodesDocument(trainer, { results, firstSeed: HELDOUT_SEED_BASE, env });
 * ```
 */
export async function episodesDocument(
  trainer: Trainer,
  o: { results: { sft: EvalResult; refined: EvalResult }; firstSeed: number; env: VecEnv | null },
): Promise<EpisodesDocument> {
  // both in seed order (an evaluation split with the Worker comes back in two parts)
  const inOrder = (r: EvalResult) => ({
    scenarios: [...r.scenarios].sort((a, b) => a.raw.seed - b.raw.seed),
  });
  const sft = inOrder(o.results.sft), refined = inOrder(o.results.refined);
  const returns = (r: typeof sft) => r.scenarios.slice(0, MAX_RETURNS).map((s) => s.return);
  const doc: EpisodesDocument = {
    format: EPISODES_FORMAT,
    version: 1,
    total_episodes: trainer.episode,
    heldout_seeds: [o.firstSeed, sft.scenarios.length],
    returns: { base: returns(sft), refined: returns(refined) },
  };
  const view = o.env?.view;
  if (!o.env || !view) return doc;
  const seeds: SeedScenes[] = [];
  for (const [k, pick] of pickSeeds(sft, refined).entries()) {
    const common = {
      env: o.env,
      planner: trainer.planner,
      deltaClip: trainer.ppo.delta_clip,
      seed: refined.scenarios[pick.index].raw.seed,
      everyFrame: k === 0,
    };
    const base = await recordEpisode({ ...common, model: null });
    const delta = await recordEpisode({ ...common, model: trainer.model });
    seeds.push({
      seed: common.seed,
      why: pick.why,
      animated: k === 0,
      ...base.background,
      base: base.scene,
      refined: delta.scene,
    });
  }
  const { unit, secondsPerStep, legend } = view;
  doc.view = { unit, seconds_per_step: secondsPerStep, legend, seeds };
  return doc;
}

/**
 * Writes `doc` to `path` atomically, as compact JSON (one line).
 *
 * @example
 * ```ts ignore
 * await writeEpisodes(join(dir, EPISODES_FILE), doc);
 * ```
 */
export async function writeEpisodes(path: string, doc: EpisodesDocument): Promise<void> {
  await writeFileAtomic(path, JSON.stringify(doc) + "\n");
}

/**
 * {@linkcode episodesDocument} written to `o.path`: what `train` records at the end of a
 * finished run for `report`'s pictures.
 *
 * @example
 * ```ts ignore
 * await recordEpisodes(trainer, { results, firstSeed, env: trainer.makeEnv(1), path });
 * ```
 */
export async function recordEpisodes(
  trainer: Trainer,
  o: {
    results: { sft: EvalResult; refined: EvalResult };
    firstSeed: number;
    env: VecEnv | null;
    path: string;
  },
): Promise<void> {
  await writeEpisodes(o.path, await episodesDocument(trainer, o));
}
