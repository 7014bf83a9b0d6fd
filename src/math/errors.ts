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
 * throw new UserError("--episodes: expected a positive integer, got 'ten'");
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
