/**
 * The registry: the envs `--env ID` names (driving, the default; mountain_car;
 * traffic), each a self-describing {@linkcode EnvDefinition} kept beside its env, and
 * the loading of a user's env module (`--env ./my_env.ts`, a file or https URL whose
 * default export is an `EnvDefinition`), checked field by field.
 *
 * @module
 */

import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { firstLine, UserError } from "../errors.ts";
import type { EnvDefinition } from "./definition.ts";
import { DRIVING_ENV } from "./driving/definition.ts";
import { MOUNTAIN_CAR_ENV } from "./mountain_car/definition.ts";
import { TRAFFIC_ENV } from "./traffic/definition.ts";

/** The env of a run that names none (`config.json` without `env_name`). */
export const DEFAULT_ENV_ID = "driving";

/** The built-in envs, in the order `--help` lists them. */
export const BUILTIN_ENVS: readonly EnvDefinition[] = Object.freeze([
  DRIVING_ENV,
  MOUNTAIN_CAR_ENV,
  TRAFFIC_ENV,
]);

/** An env as the command line named it. */
export interface EnvChoice {
  /** Its registry entry. */
  readonly definition: EnvDefinition;
  /** A registry id, a module (`--env PATH` or URL), or the Gymnasium bridge (`--env gym:ID`). */
  readonly kind: "builtin" | "module" | "gym";
  /** `--env` as given (for a built-in env, its id). */
  readonly spec: string;
}

/**
 * The built-in env of id `id`, or undefined.
 *
 * @example
 * ```ts
 * builtinEnv("mountain_car")?.sections[0].key; // "env"
 * ```
 */
export function builtinEnv(id: string): EnvDefinition | undefined {
  return BUILTIN_ENVS.find((d) => d.id === id);
}

/**
 * The ids of the built-in envs.
 *
 * @example
 * ```ts
 * builtinEnvIds(); // ["driving", "mountain_car", "traffic"]
 * ```
 */
export function builtinEnvIds(): string[] {
  return BUILTIN_ENVS.map((d) => d.id);
}

/**
 * Whether `--env`'s value names a module (a path, a `file:` or `https:` URL) rather than
 * a registry id or `gym:ID`.
 *
 * @example
 * ```ts
 * isEnvModuleSpec("./examples/pendulum.ts"); // true
 * isEnvModuleSpec("traffic"); // false
 * ```
 */
export function isEnvModuleSpec(spec: string): boolean {
  return /^(\.{1,2}\/|\/|file:|https?:)/.test(spec) || /\.(ts|js|mjs|mts)$/.test(spec);
}

/**
 * The URL a module spec imports: a URL as given, a path resolved against the working
 * folder.
 *
 * @example
 * ```ts ignore
 * envModuleUrl("./examples/pendulum.ts"); // "file:///.../examples/pendulum.ts"
 * ```
 */
export function envModuleUrl(spec: string): string {
  return /^(file|https?):/.test(spec) ? spec : pathToFileURL(resolve(spec)).href;
}

/**
 * Imports the env module `spec` (`--env` as given) and checks its default export field by
 * field; every fault is a one-line {@linkcode UserError} naming the module. Only for a
 * module the command line names: a file never leads here by itself.
 *
 * @example
 * ```ts ignore
 * const def = await loadEnvModule("./examples/pendulum.ts");
 * ```
 */
export async function loadEnvModule(spec: string): Promise<EnvDefinition> {
  let module: Record<string, unknown>;
  try {
    module = await import(envModuleUrl(spec));
  } catch (e) {
    throw new UserError(`--env ${spec}: cannot import the module: ${oneLine(e)}`);
  }
  return checkDefinition(module.default, `--env ${spec}`);
}

function oneLine(e: unknown): string {
  return firstLine(e).replace(/\s+/g, " ").slice(0, 300);
}

/**
 * `value` as an {@linkcode EnvDefinition}, checked field by field (`where` names it in
 * the one-line errors): an id that is no built-in's and has no `:`, a description, at
 * least one section (the first keyed `env`) of table rows, functions where functions
 * belong.
 *
 * @example
 * ```ts ignore
 * checkDefinition(module.default, "--env ./my_env.ts");
 * ```
 */
export function checkDefinition(value: unknown, where: string): EnvDefinition {
  const fail = (problem: string): never => {
    throw new UserError(`${where}: ${problem}`);
  };
  if (typeof value !== "object" || value === null) {
    return fail("its default export is not an env definition ({id, sections, make, ...})");
  }
  const d = value as Record<string, unknown>;
  if (typeof d.id !== "string" || !/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$/.test(d.id)) {
    fail("id: expected a name of letters, digits, '_', '.' and '-' (at most 64)");
  }
  if (builtinEnv(d.id as string)) fail(`id: '${d.id}' is a built-in env's id`);
  if (typeof d.description !== "string") fail("description: expected a string");
  if (typeof d.make !== "function") fail("make: expected a function (settings, numEnvs) => VecEnv");
  checkSections(d.sections, fail);
  for (const key of ["validate", "ppoFromSettings", "observationDoc"]) {
    if (d[key] !== undefined && typeof d[key] !== "function") fail(`${key}: expected a function`);
  }
  const ppo = d.ppoDefaults;
  if (ppo !== undefined) {
    if (typeof ppo !== "object" || ppo === null || Array.isArray(ppo)) {
      fail("ppoDefaults: expected an object of PPO keys");
    }
    for (const [k, v] of Object.entries(ppo as object)) {
      if (typeof v !== "number" && typeof v !== "boolean") {
        fail(`ppoDefaults.${k}: expected a number or true/false`);
      }
    }
  }
  if (d.outDir !== undefined && typeof d.outDir !== "string") fail("outDir: expected a string");
  if (d.actionUnit !== undefined && typeof d.actionUnit !== "string") {
    fail("actionUnit: expected a string");
  }
  checkPlanners(d.planners, fail);
  if (d.metrics !== undefined && !Array.isArray(d.metrics)) fail("metrics: expected a list");
  checkFunctions(d, "plannerFile", ["horizon", "inDim"], fail);
  checkFunctions(d, "cloning", ["make", "expert"], fail);
  const scenarioFns = ["check", "make", "digest", "id", "generatedSeed", "generate", "json"];
  checkFunctions(d, "scenarios", [...scenarioFns, "fileName"], fail);
  const only = d.commandLineOnly;
  if (only !== undefined && !(Array.isArray(only) && only.every((k) => typeof k === "string"))) {
    fail("commandLineOnly: expected a list of keys");
  }
  return d as unknown as EnvDefinition;
}

function checkSections(sections: unknown, fail: (problem: string) => never): void {
  if (!Array.isArray(sections) || sections.length === 0) {
    fail("sections: expected a list of {key, title, table}, the first keyed 'env'");
  }
  const keys = new Set<string>();
  for (const [i, s] of (sections as unknown[]).entries()) {
    const at = `sections[${i}]`;
    if (typeof s !== "object" || s === null) fail(`${at}: expected {key, title, table}`);
    const { key, title, table } = s as Record<string, unknown>;
    if (typeof key !== "string" || !/^[a-z][a-z0-9_]*$/.test(key)) {
      fail(`${at}.key: expected a snake_case name`);
    }
    if (i === 0 && key !== "env") fail(`${at}.key: the first section is keyed 'env'`);
    if (
      ["out_dir", "sft_model", "env_name", "ppo"].includes(key as string) || keys.has(key as string)
    ) {
      fail(`${at}.key: '${key}' is taken`);
    }
    keys.add(key as string);
    if (typeof title !== "string") fail(`${at}.title: expected a string`);
    if (typeof table !== "object" || table === null || Array.isArray(table)) {
      fail(`${at}.table: expected an object of rows`);
    }
    for (const [k, row] of Object.entries(table as object)) {
      checkRow(row, `${at}.table.${k}`, fail);
    }
  }
}

function checkRow(row: unknown, at: string, fail: (problem: string) => never): void {
  if (typeof row !== "object" || row === null) fail(`${at}: expected a row {type, default, help}`);
  const r = row as Record<string, unknown>;
  if (typeof r.help !== "string") fail(`${at}.help: expected a string`);
  if (r.flag !== undefined && (typeof r.flag !== "string" || !/^[a-z][a-z0-9-]*$/.test(r.flag))) {
    fail(`${at}.flag: expected a flag name without dashes`);
  }
  if (r.type === "bool") {
    if (typeof r.default !== "boolean") fail(`${at}.default: expected true or false`);
  } else if (r.type === "int" || r.type === "float") {
    const range = r.range;
    if (
      !Array.isArray(range) || range.length !== 2 || typeof range[0] !== "number" ||
      typeof range[1] !== "number" || !(range[0] <= range[1])
    ) fail(`${at}.range: expected [lowest, highest]`);
    if (typeof r.default !== "number" || !Number.isFinite(r.default)) {
      fail(`${at}.default: expected a finite number`);
    }
  } else if (r.type !== "string") {
    fail(`${at}.type: expected "int", "float", "bool" or "string"`);
  }
}

// `d[field]`, when present, is an object holding the functions `names`.
function checkFunctions(
  d: Record<string, unknown>,
  field: string,
  names: string[],
  fail: (problem: string) => never,
): void {
  const v = d[field] as Record<string, unknown> | undefined;
  if (v === undefined) return;
  if (typeof v !== "object" || v === null) fail(`${field}: expected an object`);
  for (const name of names) {
    if (typeof v[name] !== "function") fail(`${field}.${name}: expected a function`);
  }
}

function checkPlanners(planners: unknown, fail: (problem: string) => never): void {
  if (planners === undefined) return;
  if (typeof planners !== "object" || planners === null || Array.isArray(planners)) {
    fail("planners: expected an object of {description, make}");
  }
  for (const [name, p] of Object.entries(planners as object)) {
    if (!/^[a-z][a-z0-9_-]*$/.test(name)) fail(`planners.${name}: expected a lower-case name`);
    const entry = p as Record<string, unknown> | null;
    if (typeof entry?.description !== "string" || typeof entry?.make !== "function") {
      fail(`planners.${name}: expected {description, make(settings)}`);
    }
  }
}
