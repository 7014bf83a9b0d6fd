/**
 * Writing scenario files: the text of one scenario (stable, so the same scenario is
 * always the same bytes), its file name, and its content fingerprint (what held-out
 * sets are checked against training sets by).
 *
 * @module
 */

import type { Scenario } from "./scenario.ts";

/** Widest line a small object or list is kept on in a scenario file. */
const INLINE_WIDTH = 96;

function inline(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(inline).join(", ")}]`;
  if (typeof v === "object" && v !== null) {
    return `{${
      Object.entries(v).map(([k, e]) => `${JSON.stringify(k)}: ${inline(e)}`).join(", ")
    }}`;
  }
  return JSON.stringify(v);
}

function format(v: unknown, indent: string): string {
  if (typeof v !== "object" || v === null) return JSON.stringify(v);
  // lists of numbers (a polyline's x or y) stay on one line, however long
  if (Array.isArray(v) && v.every((e) => typeof e !== "object" || e === null)) return inline(v);
  const flat = inline(v);
  if (flat.length + indent.length <= INLINE_WIDTH) return flat;
  const inner = indent + "  ";
  if (Array.isArray(v)) {
    return `[\n${v.map((e) => inner + format(e, inner)).join(",\n")}\n${indent}]`;
  }
  const entries = Object.entries(v).map(([k, e]) =>
    `${inner}${JSON.stringify(k)}: ${format(e, inner)}`
  );
  return `{\n${entries.join(",\n")}\n${indent}}`;
}

/**
 * The text of a scenario file: JSON, two-space indented, with small objects (a pose, a
 * trajectory sample) and lists of numbers on one line each; ends with a newline.
 * Numbers are written so that they read back exactly.
 *
 * @example
 * ```ts ignore
 * await writeFileAtomic("set/straight.json", scenarioJson(scenario));
 * ```
 */
export function scenarioJson(s: Scenario): string {
  return format(s, "") + "\n";
}

/**
 * The file name of a scenario with id `id`: `<id>.json`, every character other than
 * letters, digits, `.`, `_` and `-` replaced by `_`, cut to 100 characters.
 *
 * @example
 * ```ts
 * scenarioFileName("waymo/scene 7"); // "waymo_scene_7.json"
 * ```
 */
export function scenarioFileName(id: string): string {
  const safe = id.replace(/[^A-Za-z0-9._-]/g, "_").slice(0, 100).replace(/^\./, "_");
  return `${safe}.json`;
}

/**
 * The content fingerprint of a scenario: the first 16 hex digits of the SHA-256 of the
 * JSON of what is driven (route, ego start, vehicles, reference), not of its id, kind
 * or metadata, so a renamed copy has the same one. Of a checked scenario (fields in
 * the documented order), so equal content gives equal fingerprints.
 *
 * @example
 * ```ts
 * import { DEFAULT_TRAFFIC_CONFIG, TRAFFIC_ENV_DEFAULTS } from "./config.ts";
 * import { generateScenario } from "./generate.ts";
 * const scenario = generateScenario(7, { env: TRAFFIC_ENV_DEFAULTS, traffic: DEFAULT_TRAFFIC_CONFIG });
 * const digest = await scenarioDigest(scenario); // e.g. "3f1c0a9e5b7d2c44"
 * ```
 */
export async function scenarioDigest(s: Scenario): Promise<string> {
  const driven = JSON.stringify([s.route, s.ego, s.vehicles, s.reference ?? null]);
  const hash = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(driven));
  return [...new Uint8Array(hash, 0, 8)].map((b) => b.toString(16).padStart(2, "0")).join("");
}
