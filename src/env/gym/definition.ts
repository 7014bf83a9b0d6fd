/**
 * `--env gym:ID`: a registry entry made for one Gymnasium env from the command line (the
 * id, `--gym-python`, `--gym-module`, `--gym-kwargs`): a worker is started once to learn
 * its spaces and time limit (a probe), then every vector env it makes starts its own
 * worker at its first reset. Its config section records the id, kwargs and modules
 * (which only the command line sets: a file recording others is refused) and the episode
 * cap (`spec.max_episode_steps`, or `--max-episode-steps`).
 *
 * @module
 */

import type { ConfigTable } from "../../config_table.ts";
import type { EnvDefinition, EnvSettings } from "../definition.ts";
import { GymVecEnv } from "./gym_vec_env.ts";
import type { WorkerInfo } from "./handshake.ts";

/** What the command line says of a `gym:ID` env. */
export interface GymEnvOptions {
  /** The Gymnasium id (after `gym:`). */
  id: string;
  /** `--gym-python` (default python3). */
  python: string;
  /** `--gym-module`, in order. */
  modules: readonly string[];
  /** `--gym-kwargs`. */
  kwargs: Readonly<Record<string, unknown>>;
  /** `--max-episode-steps`, when given: passed to `gymnasium.make`. */
  maxEpisodeSteps?: number;
  /** Deadline of each round trip with a worker (default `GYM_TIMEOUT_MS`). */
  timeoutMs?: number;
}

/** The main section of a `gym:ID` env. */
export interface GymSection {
  /** The Gymnasium id. */
  id: string;
  /** Keyword arguments of `gymnasium.make`. */
  kwargs: Record<string, unknown>;
  /** Modules imported before `gymnasium.make`. */
  modules: string[];
  /** The episode cap. */
  max_episode_steps: number;
}

/**
 * The registry entry of the Gymnasium env the command line names; starts (and ends) one
 * worker to learn its spaces. Every way that fails is a one-line `UserError` (exit 2).
 *
 * @example
 * ```ts ignore
 * const def = await gymEnvDefinition({ id: "Pendulum-v1", python: "python3", modules: [], kwargs: {} });
 * ```
 */
export async function gymEnvDefinition(opts: GymEnvOptions): Promise<EnvDefinition> {
  const { id, python, modules, timeoutMs } = opts;
  const kwargs = { ...opts.kwargs };
  const capped = opts.maxEpisodeSteps === undefined
    ? kwargs
    : { ...kwargs, max_episode_steps: opts.maxEpisodeSteps };
  const probe = await GymVecEnv.start({
    python,
    id,
    modules,
    kwargs: capped,
    numEnvs: 1,
    timeoutMs,
  });
  const info: WorkerInfo = {
    observationShape: probe.observationShape,
    actionShape: probe.actionShape,
    observationSpace: probe.observationSpace,
    actionSpace: probe.actionSpace,
    maxEpisodeSteps: probe.maxEpisodeSteps,
    versions: probe.versions,
  };
  await probe.close();
  const table: ConfigTable<GymSection> = {
    id: { type: "string", default: id, help: "the Gymnasium id (--env gym:ID)" },
    kwargs: {
      type: "string",
      default: kwargs,
      help: "keyword arguments of gymnasium.make (--gym-kwargs)",
    },
    modules: {
      type: "string",
      default: [...modules],
      help: "modules imported before gymnasium.make (--gym-module)",
    },
    max_episode_steps: {
      type: "int",
      range: [1, 1e6],
      default: info.maxEpisodeSteps,
      help: "steps before an episode is truncated (default: the env's spec)",
      flag: "max-episode-steps",
    },
  };
  const section = (s: EnvSettings) => s.env as unknown as GymSection;
  return Object.freeze({
    id: `gym:${id}`,
    description: `Gymnasium's ${id}, run by the Python worker (${info.versions.gymnasium})`,
    sections: [{ key: "env", title: `gym:${id}`, table }],
    validate: (settings: EnvSettings) => {
      const s = section(settings);
      if (typeof s.kwargs !== "object" || s.kwargs === null || Array.isArray(s.kwargs)) {
        throw new RangeError("env.kwargs: expected an object");
      }
      if (!Array.isArray(s.modules) || !s.modules.every((m) => typeof m === "string")) {
        throw new RangeError("env.modules: expected a list of module names");
      }
    },
    make: (settings: EnvSettings, numEnvs: number) => {
      const cap = section(settings).max_episode_steps;
      return GymVecEnv.deferred({
        python,
        id,
        modules,
        kwargs: { ...kwargs, max_episode_steps: cap },
        numEnvs,
        timeoutMs,
      }, { ...info, maxEpisodeSteps: cap });
    },
    outDir: `out/gym_${id.replace(/[^A-Za-z0-9_.-]/g, "_")}/run_001`,
    commandLineOnly: ["id", "kwargs", "modules"],
    observationDoc: (_settings: EnvSettings, obsDim: number) =>
      `the observation of gym:${id} (${obsDim}, flattened from [${info.observationShape}])`,
  });
}
