/**
 * Turns of the event loop inside long synchronous computations, so that signal
 * listeners (Ctrl-C, SIGTERM) can run: one turn, and a step generator driven with a turn
 * about every 0.2 s.
 *
 * @module
 */

import { setImmediate } from "node:timers";

/**
 * Resolves after the event loop has had a turn (pending ops such as a delivered signal
 * are polled). `setImmediate` costs about 0.01 ms here; `setTimeout(r, 0)` about 2 ms,
 * which, once per training iteration, was several percent of the default run.
 */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/**
 * Drives a step generator (such as `evaluatePolicySteps`) to its end, giving the event
 * loop a turn (signal listeners run then) about every `yieldMs` milliseconds of work
 * (default 200); returns null as soon as `shouldStop` says so at such a turn.
 *
 * @example
 * ```ts ignore
 * const result = await runUntil(evaluatePolicySteps(opts), () => interrupted);
 * ```
 */
export async function runUntil<T>(
  steps: Generator<void, T, void>,
  shouldStop: () => boolean,
  yieldMs = 200,
): Promise<T | null> {
  let due = performance.now() + yieldMs;
  let r = steps.next();
  while (!r.done) {
    if (performance.now() >= due) {
      await yieldToEventLoop();
      if (shouldStop()) return null;
      due = performance.now() + yieldMs;
    }
    r = steps.next();
  }
  return r.value;
}
