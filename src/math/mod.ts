/**
 * Numerical building blocks with no dependencies on the rest of the project: the
 * seedable RNG, the dense typed-array kernels and running statistics.
 *
 * @example
 * ```ts
 * import { matmulForward, Rng } from "./mod.ts";
 * const rng = new Rng(42);
 * const out = new Float64Array(1);
 * matmulForward(out, new Float64Array([rng.uniform()]), new Float64Array([2]), null, 1, 1, 1);
 * ```
 *
 * @module
 */

export * from "./rng.ts";
export * from "./kernels.ts";
export * from "./stats.ts";
export * from "./running_mean_std.ts";
