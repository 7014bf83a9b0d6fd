/**
 * The error kind every layer throws for bad input: a flag, a config key, a file.
 * Its message is one line that names what is at fault; `main.ts` prints it and exits
 * with `exitCode`.
 *
 * @module
 */

/**
 * Bad input from the user (not a bug): printed as one line, never with a stack trace.
 *
 * @example
 * ```ts
 * const e = new UserError("--episodes: expected a positive integer, got 'ten'");
 * e.exitCode; // 2: bad input
 * ```
 */
export class UserError extends Error {
  /** Process exit code for this error (2: bad input). */
  readonly exitCode: number;

  /** `options.exitCode` defaults to 2; `options.cause` becomes the standard `Error.cause`. */
  constructor(message: string, options?: { exitCode?: number; cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = "UserError";
    this.exitCode = options?.exitCode ?? 2;
  }
}

/** Exit codes of the program, as the README documents them. */
export const EXIT = Object.freeze({
  /** Done. */
  ok: 0,
  /** An unexpected error (a bug): one line, the trace with `DELTA_WAYPOINT_DEBUG=1`. */
  unexpected: 1,
  /** Bad input: a flag, a config, a file, an unusable path; nothing was written. */
  badInput: 2,
  /** Training diverged (a non-finite loss or gradient). */
  diverged: 3,
  /** A file-system fault while the run was writing; the last complete checkpoint stands. */
  ioFault: 4,
  /** Stopped by Ctrl-C (SIGINT). */
  sigint: 130,
  /** Stopped by SIGTERM. */
  sigterm: 143,
});

/** The environment variable that makes an unexpected error print its stack trace. */
export const DEBUG_ENV = "DELTA_WAYPOINT_DEBUG";

/**
 * True for an error raised by the operating system (a file-system or permission
 * fault): Deno's `Deno.errors.*` classes, or any error carrying an errno-style `code`
 * such as `ENOSPC`.
 *
 * @example
 * ```ts
 * isOsError(new Deno.errors.NotFound("x")); // true
 * ```
 */
export function isOsError(e: unknown): e is Error {
  if (!(e instanceof Error)) return false;
  if (Object.values(Deno.errors).some((cls) => e instanceof cls)) return true;
  const code = (e as { code?: unknown }).code;
  return typeof code === "string" && /^E[A-Z]+$/.test(code) || /\(os error \d+\)/.test(e.message);
}

/**
 * `text` as one printable line: control characters (a newline or an escape sequence in
 * a file name, say) written as escapes (`\n`, `\x1b`), so an error line can neither
 * be split nor drive the terminal.
 *
 * @example
 * ```ts
 * printable("a\nb\x1b[2J"); // "a\\nb\\x1b[2J"
 * ```
 */
export function printable(text: string): string {
  // deno-lint-ignore no-control-regex
  return text.replace(/[\x00-\x1f\x7f-\x9f]/g, (c) => {
    const named: Record<string, string> = { "\n": "\\n", "\r": "\\r", "\t": "\\t" };
    return named[c] ?? `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`;
  });
}

/** The first line of an error's message. */
export function firstLine(e: unknown): string {
  const text = e instanceof Error ? e.message : String(e);
  return text.split("\n")[0].trim();
}

function debugWanted(): boolean {
  try {
    // query first: a missing permission must not become an interactive prompt
    const q = Deno.permissions.querySync({ name: "env", variable: DEBUG_ENV });
    if (q.state !== "granted") return false;
    const v = Deno.env.get(DEBUG_ENV);
    return v !== undefined && v !== "" && v !== "0";
  } catch {
    return false; // no --allow-env
  }
}

/**
 * Turns any error that ends a command into one line on stderr and the exit code:
 * a {@linkcode UserError} its own code, an OS error (a path that cannot be used) 2,
 * anything else 1 with a hint that `DELTA_WAYPOINT_DEBUG=1` shows the stack trace.
 * `main.ts` and `sft.ts` run on their own both use it.
 *
 * @example
 * ```ts
 * const code = reportError(new UserError("--episodes: expected a positive integer"));
 * ```
 */
export function reportError(e: unknown): number {
  if (e instanceof UserError) {
    console.error(`error: ${printable(e.message)}`);
    return e.exitCode;
  }
  if (isOsError(e)) {
    // the whole message: an OS error names the path, which may hold a newline
    console.error(`error: ${printable(e.message.trim())}`);
    return EXIT.badInput;
  }
  const name = e instanceof Error ? e.name : typeof e;
  if (debugWanted()) {
    console.error(e instanceof Error && e.stack ? e.stack : String(e));
  } else {
    console.error(
      `error: unexpected ${name}: ${
        printable(firstLine(e))
      } (a bug; run with ${DEBUG_ENV}=1 for the stack trace)`,
    );
  }
  return EXIT.unexpected;
}
