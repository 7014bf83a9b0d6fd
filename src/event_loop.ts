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
 * What a step generator yields: nothing (a pause, where the event loop may get a turn) or
 * a promise to wait for (an env in another process answering).
 */
export type Pending = void | Promise<void>;

/** A computation in steps: it yields after each step and returns its result. */
export type Steps<T> = Generator<Pending, T, void>;

/**
 * Drives a step generator to its end on this thread, without turns of the event loop; an
 * env that answers with promises (the Gymnasium bridge) needs {@linkcode runUntil}.
 *
 * @example
 * ```ts
 * function* count(): Steps<number> {
 *   yield;
 *   return 2;
 * }
 * runToEnd(count()); // 2
 * ```
 */
export function runToEnd<T>(steps: Steps<T>): T {
  let r = steps.next();
  while (!r.done) {
    if (r.value) throw new Error("this env answers asynchronously: drive it with runUntil");
    r = steps.next();
  }
  return r.value;
}

/**
 * Drives a step generator (such as `evaluatePolicySteps`) to its end, waiting for every
 * promise it yields and giving the event loop a turn (signal listeners run then) about
 * every `yieldMs` milliseconds of work (default 200); returns null as soon as
 * `shouldStop` says so at such a turn.
 *
 * @example
 * ```ts ignore
 * const result = await runUntil(evaluatePolicySteps(opts), () => interrupted);
 * ```
 */
export async function runUntil<T>(
  steps: Steps<T>,
  shouldStop: () => boolean,
  yieldMs = 200,
): Promise<T | null> {
  let due = performance.now() + yieldMs;
  let r = steps.next();
  while (!r.done) {
    if (r.value) await r.value;
    if (performance.now() >= due) {
      await yieldToEventLoop();
      if (shouldStop()) return null;
      due = performance.now() + yieldMs;
    }
    r = steps.next();
  }
  return r.value;
}
