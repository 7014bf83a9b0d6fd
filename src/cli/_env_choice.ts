/**
 * `--env`: which env a command runs on, as the command line names it: a registry id
 * (driving, the default), an env module (`./my_env.ts`, `/abs/env.ts`, a `file:` or
 * `https:` URL, whose default export is an `EnvDefinition`), or `gym:ID` (a Gymnasium
 * env through the Python worker, with `--gym-python`, `--gym-module`, `--gym-kwargs`).
 * A file (checkpoint, config, scenario) may record an env, but only the command line
 * makes a module load or a worker start: a recorded env that is not built in must be
 * named again here, and must match.
 *
 * @module
 */

import { UserError } from "../errors.ts";
import {
  builtinEnv,
  builtinEnvIds,
  DEFAULT_ENV_ID,
  gymEnvDefinition,
  isEnvModuleSpec,
  loadEnvModule,
} from "../env/mod.ts";
import type { EnvChoice } from "../env/mod.ts";
import { parseNumber } from "./_flags.ts";

/** The parseArgs options of `--env` and the Gymnasium bridge's flags. */
export const ENV_CHOICE_OPTIONS = {
  env: { type: "string" },
  "gym-python": { type: "string" },
  "gym-module": { type: "string", multiple: true },
  "gym-kwargs": { type: "string" },
} as const;

/**
 * `--env`'s help lines, and the Gymnasium bridge's.
 *
 * @example
 * ```ts
 * console.log(envChoiceHelp().join("\n"));
 * ```
 */
export function envChoiceHelp(): string[] {
  return [
    `  --env ID|PATH|gym:ID     env to run on: ${
      builtinEnvIds().join(", ")
    } (default ${DEFAULT_ENV_ID}),`,
    "                           a module (./my_env.ts, /abs/env.ts, file: or https: URL) whose",
    "                           default export is an EnvDefinition, or gym:ID (a Gymnasium env)",
    "  --gym-python PATH        gym:ID: the Python that runs the worker (default python3)",
    "  --gym-module NAME        gym:ID: a module imported before gymnasium.make (repeatable)",
    "  --gym-kwargs JSON        gym:ID: keyword arguments of gymnasium.make, a JSON object",
  ];
}

/**
 * The values of `--env`, the Gymnasium flags and `--max-episode-steps` in `args`, read
 * before the env's own flags are known (a value that is missing is left to the strict
 * parse that follows).
 *
 * @example
 * ```ts
 * peekEnvFlags(["--episodes", "5", "--env=traffic"]).env; // "traffic"
 * ```
 */
export function peekEnvFlags(args: readonly string[]): Record<string, unknown> {
  const names = [...Object.keys(ENV_CHOICE_OPTIONS), "max-episode-steps"];
  const out: Record<string, unknown> = {};
  for (let i = 0; i < args.length; i++) {
    const m = /^--([a-z-]+)(?:=(.*))?$/s.exec(args[i]);
    if (!m || !names.includes(m[1])) continue;
    const value = m[2] ?? args[i + 1];
    if (m[2] === undefined) i++;
    if (value === undefined) continue;
    if (m[1] === "gym-module") out[m[1]] = [...(out[m[1]] as string[] | undefined ?? []), value];
    else out[m[1]] = value;
  }
  return out;
}

/** What a file recorded about the env it belongs to. */
export interface RecordedEnv {
  /** Its `env_name` (the default env's id when it has none). */
  name: string;
  /** The file, for messages (`--resume ckpt.pt`, `--policy final.pt`). */
  where: string;
}

/**
 * The env `values` (`--env` and the Gymnasium flags) names, else the one `recorded` (a
 * file's) names when that one is built in, else the default env. A recorded env that is
 * not built in must be named on the command line (a file never loads code), and the
 * env the command line names must be the one recorded. Bad input is a one-line
 * {@linkcode UserError}.
 *
 * @example
 * ```ts ignore
 * const { definition } = await chooseEnv({ env: "./examples/pendulum.ts" });
 * ```
 */
export async function chooseEnv(
  values: Record<string, unknown>,
  recorded?: RecordedEnv,
): Promise<EnvChoice> {
  const spec = values.env;
  const gymFlag = ["gym-python", "gym-module", "gym-kwargs"].find((f) => values[f] !== undefined);
  if (gymFlag && !(typeof spec === "string" && spec.startsWith("gym:"))) {
    throw new UserError(`--${gymFlag}: only with --env gym:ID`);
  }
  if (spec === undefined) {
    const name = recorded?.name ?? DEFAULT_ENV_ID;
    const def = builtinEnv(name);
    if (def) return { definition: def, kind: "builtin", spec: name };
    throw new UserError(
      `${
        recorded!.where
      }: trained on env '${name}', which is not built in; name it with --env (its module, or gym:ID): a file never loads code by itself`,
    );
  }
  if (typeof spec !== "string" || spec.trim() === "") {
    throw new UserError("--env: must not be empty");
  }
  const choice = await resolveSpec(spec, values);
  if (recorded && choice.definition.id !== recorded.name) {
    throw new UserError(
      `--env ${spec}: ${recorded.where} was trained on env '${recorded.name}', not '${choice.definition.id}'`,
    );
  }
  return choice;
}

async function resolveSpec(spec: string, values: Record<string, unknown>): Promise<EnvChoice> {
  const def = builtinEnv(spec);
  if (def) return { definition: def, kind: "builtin", spec };
  if (spec.startsWith("gym:")) {
    const definition = await gymEnvDefinition({
      id: spec.slice(4),
      python: typeof values["gym-python"] === "string" ? values["gym-python"] : "python3",
      modules: (values["gym-module"] as string[] | undefined) ?? [],
      kwargs: gymKwargs(values["gym-kwargs"]),
      maxEpisodeSteps: typeof values["max-episode-steps"] === "string"
        ? parseNumber(values["max-episode-steps"], {
          flag: "--max-episode-steps",
          kind: "int",
          lo: 1,
          hi: 1e6,
        })
        : undefined,
    });
    return { definition, kind: "gym", spec };
  }
  if (isEnvModuleSpec(spec)) return { definition: await loadEnvModule(spec), kind: "module", spec };
  throw new UserError(
    `--env ${spec}: not a built-in env (${
      builtinEnvIds().join(", ")
    }), a module path (./my_env.ts) or gym:ID`,
  );
}

function gymKwargs(raw: unknown): Record<string, unknown> {
  if (raw === undefined) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(String(raw));
  } catch (e) {
    throw new UserError(`--gym-kwargs: not valid JSON (${(e as Error).message.slice(0, 120)})`);
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new UserError("--gym-kwargs: expected a JSON object");
  }
  return parsed as Record<string, unknown>;
}
