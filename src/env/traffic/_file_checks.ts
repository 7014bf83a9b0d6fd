/**
 * The checks of the JSON files the traffic env reads (scenario files, logged
 * episodes), private to this folder: each takes the value's place ({@linkcode At}) and
 * fails with one {@linkcode UserError} line, `<file>: <field>: <problem>`.
 *
 * @module
 */

import { UserError } from "../../errors.ts";

/** A checked value's place in its file, for `<file>: <field>: <problem>`. */
export class At {
  /** `file` names the file, `field` the path to the value in it ("" for the whole). */
  constructor(readonly file: string, readonly field: string) {}
  /** The place of member `name`. */
  key(name: string): At {
    return new At(this.file, this.field === "" ? name : `${this.field}.${name}`);
  }
  /** The place of entry `i`. */
  index(i: number): At {
    return new At(this.file, `${this.field}[${i}]`);
  }
  /** Throws the one-line error for this place. */
  fail(problem: string): never {
    throw new UserError(`${this.file}: ${this.field === "" ? "" : `${this.field}: `}${problem}`);
  }
}

/** A value as a message shows it: short, whatever its size. */
export function describe(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "a list";
  if (typeof v === "object") return "an object";
  if (typeof v === "string") return `"${safeText(v)}"`;
  return String(v);
}

/** A text for a one-line message: control characters escaped, at most 80 characters. */
export function safeText(s: string): string {
  let out = "";
  for (const ch of s.length > 80 ? `${s.slice(0, 77)}...` : s) {
    const c = ch.charCodeAt(0);
    out += c < 0x20 || c === 0x7f ? `\\x${c.toString(16).padStart(2, "0")}` : ch;
  }
  return out;
}

/** A JSON object (not a list, not null). */
export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** An object whose keys are all among `required` and `optional`, with every required one. */
export function object(
  v: unknown,
  at: At,
  keys: { required: readonly string[]; optional?: readonly string[] },
): Record<string, unknown> {
  if (!isObject(v)) return at.fail(`must be an object, got ${describe(v)}`);
  for (const k of Object.keys(v)) {
    if (!keys.required.includes(k) && !keys.optional?.includes(k)) {
      at.key(safeText(k)).fail("unknown field");
    }
  }
  for (const k of keys.required) if (!(k in v)) at.key(k).fail("missing");
  return v;
}

/** A list of `min..max` entries. */
export function list(v: unknown, at: At, range: { min: number; max: number }): unknown[] {
  if (!Array.isArray(v)) return at.fail(`must be a list, got ${describe(v)}`);
  if (v.length < range.min) at.fail(`must have at least ${range.min} entries, has ${v.length}`);
  if (v.length > range.max) at.fail(`has ${v.length} entries, over the limit of ${range.max}`);
  return v;
}

/** A finite number in [lo, hi] (lo excluded when `above`). */
export function num(
  v: unknown,
  at: At,
  range: { lo: number; hi: number; above?: boolean },
): number {
  if (typeof v !== "number" || !Number.isFinite(v)) {
    return at.fail(`must be a finite number, got ${describe(v)}`);
  }
  if (range.above ? !(v > range.lo) : !(v >= range.lo)) {
    at.fail(`must be ${range.above ? ">" : ">="} ${range.lo}, got ${v}`);
  }
  if (v > range.hi) at.fail(`must be <= ${range.hi}, got ${v}`);
  return v;
}

/** A non-empty string of at most `maxLength` characters, no control characters. */
export function text(v: unknown, at: At, maxLength: number): string {
  if (typeof v !== "string") return at.fail(`must be a string, got ${describe(v)}`);
  if (v.length === 0) at.fail("must not be empty");
  if (v.length > maxLength) at.fail(`is ${v.length} characters, over the limit of ${maxLength}`);
  // deno-lint-ignore no-control-regex
  if (/[\x00-\x1f\x7f]/.test(v)) at.fail("must not hold control characters");
  return v;
}
