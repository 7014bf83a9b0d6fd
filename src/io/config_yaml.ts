/**
 * `--config` files in YAML (`.yaml`, `.yml`): parsed as one YAML 1.2 document (core
 * schema: no custom tags, no merge keys, unique keys) into the plain data a JSON config
 * gives, within budgets: the file's size (its reader's), aliases (each expansion counted,
 * so a "billion laughs" file is refused), nesting depth and the number of values after
 * aliases are expanded. Every failure is one {@linkcode ConfigTextError} line naming the
 * line and column where YAML gives one.
 *
 * @module
 */

import process from "node:process";

// Loaded only for a YAML config (`loadYamlParser`): the package adds about 6 MB to every
// process that imports it.
let yaml: typeof import("yaml") | null = null;

/**
 * Loads the YAML parser {@linkcode parseYamlConfig} needs; call it before reading a
 * YAML config (the commands do when `--config` names one).
 *
 * @example
 * ```ts
 * await loadYamlParser();
 * ```
 */
export async function loadYamlParser(): Promise<void> {
  yaml ??= await import("yaml");
}

/** Most alias expansions in a YAML config (the `yaml` package's `maxAliasCount`). */
export const MAX_YAML_ALIASES = 100;
/** Deepest nesting of mappings and sequences in a config file (the top level is 1). */
export const MAX_CONFIG_DEPTH = 64;
/** Most values (scalars, mappings, sequences) in a config file once aliases are expanded. */
export const MAX_CONFIG_VALUES = 100_000;

/** Why a config file's text is not a config, as the message (without the file name). */
export class ConfigTextError extends Error {
  /** `message` is the problem, e.g. "not valid YAML at line 3, column 5 (...)". */
  constructor(message: string) {
    super(message);
    this.name = "ConfigTextError";
  }
}

/**
 * Whether `path` names a YAML config (it ends in `.yaml` or `.yml`, any case); any
 * other is read as JSON.
 *
 * @example
 * ```ts
 * isYamlConfigPath("run.yml"); // true
 * ```
 */
export function isYamlConfigPath(path: string): boolean {
  return /\.ya?ml$/i.test(path);
}

/**
 * Loads the YAML parser when `args` (a command line) give `--config` a YAML file.
 *
 * @example
 * ```ts
 * await loadYamlParserFor(["--config", "run.yaml"]);
 * ```
 */
export async function loadYamlParserFor(args: readonly string[]): Promise<void> {
  const yamlConfig = args.some((a, i) =>
    a === "--config"
      ? isYamlConfigPath(args[i + 1] ?? "")
      : a.startsWith("--config=") && isYamlConfigPath(a)
  );
  if (yamlConfig) await loadYamlParser();
}

/**
 * The plain data (objects, arrays, strings, numbers, booleans, null) of a YAML config's
 * text, as `JSON.parse` would give for the same content; a syntax error, a warning
 * (an unknown tag), more than one document, too many aliases, nesting deeper than
 * {@linkcode MAX_CONFIG_DEPTH}, more than {@linkcode MAX_CONFIG_VALUES} values or a
 * mapping key that is not a scalar is a {@linkcode ConfigTextError}.
 *
 * @example
 * ```ts
 * await loadYamlParser();
 * parseYamlConfig("ppo:\n  lr: 3.0e-4\n"); // { ppo: { lr: 0.0003 } }
 * ```
 */
export function parseYamlConfig(text: string): unknown {
  return withoutEnv(() => parseWith(yaml, text));
}

// The yaml package reads process.env.LOG_TOKENS and LOG_STREAM (its debug output) as it
// parses; without env permission (`deno task train` grants two variables) that read
// fails, so the parse, which is synchronous, sees an empty environment.
function withoutEnv<T>(parse: () => T): T {
  const env = Object.getOwnPropertyDescriptor(process, "env")!;
  Object.defineProperty(process, "env", { value: {}, configurable: true, writable: true });
  try {
    return parse();
  } finally {
    Object.defineProperty(process, "env", env);
  }
}

function parseWith(yaml: typeof import("yaml") | null, text: string): unknown {
  if (yaml === null) throw new Error("parseYamlConfig: call loadYamlParser() first");
  const doc = yaml.parseDocument(text, {
    schema: "core",
    merge: false,
    uniqueKeys: true,
    prettyErrors: true,
    logLevel: "error", // "silent" would drop the error of a second document
  });
  const problem = doc.errors[0] ?? doc.warnings[0];
  if (problem !== undefined) {
    const where = problem.linePos?.[0];
    const what = problem.code === "MULTIPLE_DOCS"
      ? "a config file is one document"
      : problem.message.split("\n")[0].replace(/ at line \d+, column \d+:?$/, "");
    throw new ConfigTextError(
      `not valid YAML${where ? ` at line ${where.line}, column ${where.col}` : ""} (${
        what.slice(0, 200)
      })`,
    );
  }
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: MAX_YAML_ALIASES, mapAsMap: true });
  } catch (e) {
    if (!(e instanceof ReferenceError)) throw e;
    throw new ConfigTextError(`its aliases expand past the limit of ${MAX_YAML_ALIASES}`);
  }
  return plainData(value, { depth: 1, values: { count: 0 } });
}

// `value` (from `toJS` with maps as Map) as plain objects and arrays, within the budgets.
function plainData(value: unknown, at: { depth: number; values: { count: number } }): unknown {
  if (++at.values.count > MAX_CONFIG_VALUES) {
    throw new ConfigTextError(`holds more than ${MAX_CONFIG_VALUES} values (aliases expanded)`);
  }
  if (!(value instanceof Map) && !Array.isArray(value)) return value;
  if (at.depth > MAX_CONFIG_DEPTH) {
    throw new ConfigTextError(`nests deeper than the limit of ${MAX_CONFIG_DEPTH}`);
  }
  const inner = { depth: at.depth + 1, values: at.values };
  if (Array.isArray(value)) return value.map((item) => plainData(item, inner));
  const entries: [string, unknown][] = [];
  const seen = new Set<string>();
  for (const [k, v] of value) {
    if (k !== null && typeof k === "object") {
      throw new ConfigTextError("a mapping key is not a scalar");
    }
    const key = String(k);
    if (seen.has(key)) throw new ConfigTextError(`the key '${key.slice(0, 80)}' appears twice`);
    seen.add(key);
    entries.push([key, plainData(v, inner)]);
  }
  // own data properties, also for a key such as "__proto__" (as JSON.parse makes them)
  return Object.fromEntries(entries);
}
