/**
 * Small statistics over plain number lists.
 *
 * @module
 */

/**
 * Mean of the finite values of `xs` (0 when there are none). Non-finite entries stand
 * for unknown values, e.g. the rewards of episodes before a resume from a checkpoint
 * that did not record them.
 *
 * @example
 * ```ts
 * finiteMean([1, NaN, 3]); // 2
 * ```
 */
export function finiteMean(xs: readonly number[]): number {
  let sum = 0, count = 0;
  for (const x of xs) {
    if (!Number.isFinite(x)) continue;
    sum += x;
    count++;
  }
  return count === 0 ? 0 : sum / count;
}
