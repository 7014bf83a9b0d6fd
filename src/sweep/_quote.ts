/**
 * Text from the user (paths, flags) in the files `--emit` writes, never as executable
 * text: shell words single-quoted, `#SBATCH` arguments in Slurm's own quoting, and
 * strings of Python and YAML as double-quoted literals whose every character outside
 * printable ASCII is an escape (so no line break, quote or `"""` can end them).
 *
 * @module
 */

import { UserError } from "../errors.ts";

/**
 * `s` quoted for POSIX sh (left bare when it has only safe characters).
 *
 * @example
 * ```ts
 * shellQuote("it's"); // "'it'\\''s'"
 * ```
 */
export function shellQuote(s: string): string {
  if (/^[A-Za-z0-9_\/.,:=+@%-]+$/.test(s)) return s;
  return `'${s.replaceAll("'", `'\\''`)}'`;
}

/**
 * `s` as a double-quoted string literal that Python and YAML read back as `s`: `\`
 * and `"` escaped, every character outside printable ASCII written as `\xNN`,
 * `\uNNNN` or `\UNNNNNNNN` (the file stays ASCII, one literal on one line).
 *
 * @example
 * ```ts
 * escapedString('a"b\nc'); // '"a\\"b\\x0ac"'
 * ```
 */
export function escapedString(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (ch === "\\" || ch === '"') out += `\\${ch}`;
    else if (c >= 0x20 && c < 0x7f) out += ch;
    else if (c < 0x100) out += `\\x${c.toString(16).padStart(2, "0")}`;
    else if (c < 0x10000) out += `\\u${c.toString(16).padStart(4, "0")}`;
    else out += `\\U${c.toString(16).padStart(8, "0")}`;
  }
  return out + '"';
}

/**
 * One argument of an `#SBATCH` line in sbatch's own quoting: in double quotes, with `\`
 * and `"` escaped (sbatch reads a backslash as escaping the next character, inside
 * quotes too). A line break cannot be written in one: it is refused before.
 *
 * @example
 * ```ts
 * sbatchQuote('--chdir=/a b'); // '"--chdir=/a b"'
 * ```
 */
export function sbatchQuote(arg: string): string {
  return `"${arg.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

/**
 * Refuses (one line, exit 2) a path or argument that a job file cannot hold: control
 * characters (a line break would end a `#SBATCH` line or a comment).
 *
 * @example
 * ```ts
 * checkPrintable("--out-dir", "out/seeds"); // fine
 * ```
 */
export function checkPrintable(what: string, s: string): void {
  // deno-lint-ignore no-control-regex
  const bad = /[\x00-\x1f\x7f]/.exec(s);
  if (bad) {
    throw new UserError(
      `${what}: holds a control character (\\x${
        bad[0].charCodeAt(0).toString(16).padStart(2, "0")
      }), which a job file cannot hold; choose another name`,
    );
  }
}
