/**
 * An env's own flags: the rows of its sections' tables that have a flag, as parseArgs
 * options, `--help` lines under each section's title, and applied to its settings. A flag
 * another built-in env has but this one lacks is refused naming the envs that have it.
 *
 * @module
 */

import { UserError } from "../errors.ts";
import { BUILTIN_ENVS } from "../env/mod.ts";
import type { EnvDefinition } from "../env/mod.ts";
import type { ConfigTable } from "../config_table.ts";
import { applyFlags, flagHelp, flagOptions, parseFlags } from "./_flags.ts";
import type { OptionTable } from "./_flags.ts";

type Table = ConfigTable<Record<string, unknown>>;

/**
 * parseArgs options of the flags of `def`'s sections.
 *
 * @example
 * ```ts ignore
 * envFlagOptions(TRAFFIC_ENV); // { "world-size": ..., neighbors: ..., "vehicle-mode": ... }
 * ```
 */
export function envFlagOptions(
  def: EnvDefinition,
  sections?: readonly string[],
): Record<string, { type: "string" }> {
  return Object.assign(
    {},
    ...def.sections.filter((s) => !sections || sections.includes(s.key)).map((s) =>
      flagOptions(s.table as Table)
    ),
  );
}

/**
 * `--help` lines of the flags of `def`'s sections (`opts.sections`: only those), each
 * section under its title, with the env's defaults; `opts.extra` (more lines of the
 * env's own flags, e.g. `--scenarios`) goes under the last title (or one of the env's).
 *
 * @example
 * ```ts ignore
 * console.log(envFlagHelp(TRAFFIC_ENV).join("\n"));
 * ```
 */
export function envFlagHelp(
  def: EnvDefinition,
  opts: { sections?: readonly string[]; extra?: readonly string[] } = {},
): string[] {
  const { sections, extra = [] } = opts;
  const lines = def.sections.filter((s) => !sections || sections.includes(s.key)).flatMap((s) => {
    const lines = flagHelp(s.table as Table);
    return lines.length === 0 ? [] : ["", `${s.title} (--env ${def.id}):`, ...lines];
  });
  if (extra.length === 0) return lines;
  return lines.length > 0 ? [...lines, ...extra] : ["", `Env ${def.id}:`, ...extra];
}

/**
 * Applies the flags of `def`'s sections given in `values` to `settings` (section by
 * section, checked against each row's range).
 *
 * @example
 * ```ts ignore
 * applyEnvFlags(settings, { def: DRIVING_ENV, values: { "horizon-steps": "5" } });
 * ```
 */
export function applyEnvFlags(
  settings: Record<string, Record<string, unknown>>,
  opts: { def: EnvDefinition; values: Record<string, unknown>; sections?: readonly string[] },
): void {
  for (const s of opts.def.sections) {
    if (opts.sections && !opts.sections.includes(s.key)) continue;
    applyFlags(settings[s.key], { values: opts.values, table: s.table as Table });
  }
}

/**
 * parseFlags for a command on env `def`: an unknown flag that a built-in env has is
 * refused naming the envs it is for.
 *
 * @example
 * ```ts ignore
 * const { values } = parseEnvCommand("train", args, { options, def });
 * ```
 */
export function parseEnvCommand(
  command: string,
  args: string[],
  opts: { options: OptionTable; def: EnvDefinition; positionals?: boolean },
): ReturnType<typeof parseFlags> {
  try {
    return parseFlags(command, args, opts.options, opts.positionals ?? false);
  } catch (e) {
    const flag = e instanceof UserError ? /'--([a-z0-9-]+)'/.exec(e.message)?.[1] : undefined;
    if (flag === undefined || !/nknown option/.test((e as Error).message)) throw e;
    const owners = BUILTIN_ENVS.filter((d) => flag in envFlagOptions(d)).map((d) => d.id);
    if (owners.length === 0) throw e;
    throw new UserError(`--${flag}: only for --env ${owners.join(", ")}, not ${opts.def.id}`);
  }
}
