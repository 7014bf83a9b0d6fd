/**
 * `train`'s stop signals: the first SIGINT or SIGTERM asks for a stop at the next safe
 * point, a second one quits at once.
 *
 * @module
 */

import { EXIT } from "../errors.ts";
import { abortPendingWrites } from "../io/mod.ts";

/** A stop requested by SIGINT or SIGTERM, as {@linkcode listenForStop} reports it. */
export interface StopRequest {
  /** The exit code of the first stop signal (130 or 143), or null while none came. */
  readonly code: number | null;
  /** Stops listening. */
  dispose(): void;
}

/**
 * Ctrl-C (SIGINT) or SIGTERM asks the loop to stop at the next safe point (it then
 * saves a checkpoint); a second one quits at once, removing half-written temporary
 * files and calling `onAbort` (which releases the run folder).
 *
 * @example
 * ```ts ignore
 * const stop = listenForStop({ onAbort: () => lock.release(), log: console.error });
 * try { ... stop.code ... } finally { stop.dispose(); }
 * ```
 */
export function listenForStop(
  opts: {
    onAbort: () => void;
    log: (line: string) => void;
    /** A stop asked for without a signal (a lane whose parent is gone): SIGTERM's code. */
    orphaned?: () => boolean;
  },
): StopRequest {
  let code: number | null = null;
  const signals = ["SIGINT", "SIGTERM"] as const;
  const handlers = signals.map((signal) => {
    const handler = () => {
      const c = signal === "SIGINT" ? EXIT.sigint : EXIT.sigterm;
      if (code !== null) {
        console.error(`train: ${signal} again: quitting without saving`);
        // a write in flight is waited for (its temporary file then removed), never renamed
        abortPendingWrites().finally(() => {
          opts.onAbort();
          Deno.exit(c);
        });
        return;
      }
      code = c;
      opts.log(
        `train: ${signal}: stopping at the next episode boundary to save a checkpoint (again to quit at once)`,
      );
    };
    Deno.addSignalListener(signal, handler);
    return handler;
  });
  return {
    get code() {
      if (code === null && opts.orphaned?.()) {
        code = EXIT.sigterm;
        opts.log("train: the process that started this one is gone: stopping to save a checkpoint");
      }
      return code;
    },
    dispose() {
      signals.forEach((signal, i) => Deno.removeSignalListener(signal, handlers[i]));
    },
  };
}
