/**
 * A JSON or YAML config file (`{"env": {...}, "ppo": {...}}`, e.g. a run's `config.json`;
 * YAML when it ends in `.yaml` or `.yml`, `config_yaml.ts`) read within its size limit and applied over config objects, section by section, with
 * one-line errors naming the file and the key.
 *
 * @module
 */

import { UserError } from "../errors.ts";
import { FileReadError, MAX_CONFIG_FILE_BYTES, readBoundedFileSync } from "./limits.ts";
import { ConfigTextError, isYamlConfigPath, parseYamlConfig } from "./config_yaml.ts";

/**
 * Applies a JSON or YAML config file (`{"env": {...}, "ppo": {...}}`, e.g. a run's
 * `config.json`) to the config objects in `targets`, section by section. Unknown
 * sections (other than `ignore`) and unknown keys are errors naming the file and key;
 * a value must have the type of the key's current value; a top-level key of `expect`
 * that the file holds must have the value given there.
 *
 * @example
 * ```ts ignore
 * applyConfigFile("run/config.json", { env }, { ignore: ["out_dir", "ppo"] });
 * ```
 */
export function applyConfigFile(
  path: string,
  targets: Record<string, object>,
  opts: { ignore?: string[]; skipKeys?: string[]; expect?: Record<string, string> } = {},
): void {
  let parsed: unknown;
  try {
    const bytes = readBoundedFileSync(path, {
      maxBytes: MAX_CONFIG_FILE_BYTES,
      what: "a config file",
    });
    const text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
    parsed = isYamlConfigPath(path) ? parseYamlConfig(text) : JSON.parse(text);
  } catch (e) {
    const why = e instanceof ConfigTextError
      ? e.message
      : e instanceof FileReadError
      ? (e.osError && !e.problem.startsWith("cannot read")
        ? `cannot read (${e.problem})`
        : e.problem)
      : e instanceof SyntaxError
      ? `not valid JSON (${e.message.slice(0, 200)})`
      : e instanceof TypeError
      ? "not UTF-8 text"
      : `cannot read (${(e as Error).name})`;
    throw new UserError(`--config ${path}: ${why}`);
  }
  const sections = Object.keys(targets);
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new UserError(
      `--config ${path}: expected an object with ${sections.map((s) => `"${s}"`).join(", ")}`,
    );
  }
  for (const [key, want] of Object.entries(opts.expect ?? {})) {
    const got = (parsed as Record<string, unknown>)[key];
    if (got !== undefined && got !== want) {
      throw new UserError(
        `--config ${path}: '${key}' is ${describeJson(got)}, the command line names "${want}"`,
      );
    }
  }
  for (const [section, body] of Object.entries(parsed)) {
    if (opts.ignore?.includes(section)) continue;
    const target = targets[section] as Record<string, unknown> | undefined;
    if (!target) {
      throw new UserError(
        `--config ${path}: unknown section '${shortKey(section)}' (expected ${
          sections.join(", ")
        })`,
      );
    }
    if (typeof body !== "object" || body === null || Array.isArray(body)) {
      throw new UserError(`--config ${path}: '${section}' must be an object`);
    }
    for (const [key, value] of Object.entries(body)) {
      if (!(key in target)) {
        throw new UserError(`--config ${path}: unknown key '${section}.${shortKey(key)}'`);
      }
      if (opts.skipKeys?.includes(key)) continue;
      if (typeof value !== typeof target[key] && target[key] !== null) {
        throw new UserError(
          `--config ${path}: '${section}.${key}' must be a ${typeof target[key]}, got ${
            describeJson(value)
          }`,
        );
      }
      target[key] = value;
    }
  }
}

/** A JSON value for a one-line message: short, whatever its size or depth. */
function describeJson(value: unknown): string {
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object" && value !== null) return "an object";
  const text = JSON.stringify(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

/** A key read from a file, for a one-line message: control characters escaped, short. */
function shortKey(key: string): string {
  let safe = "";
  for (const ch of key.length > 80 ? `${key.slice(0, 77)}...` : key) {
    const c = ch.charCodeAt(0);
    safe += c < 0x20 || c === 0x7f ? `\\x${c.toString(16).padStart(2, "0")}` : ch;
  }
  return safe;
}
