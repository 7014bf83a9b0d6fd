/**
 * Weight initialisation as torch does it, drawn from the project's seedable {@linkcode Rng}
 * so that one seed fixes every parameter. Values are rounded to float32, the dtype torch
 * would hold them in, so a fresh model already equals its float32 checkpoint.
 *
 * @module
 */

import type { Rng } from "../math/mod.ts";

/**
 * Fills `out` with U(-bound, bound), rounded to float32.
 *
 * @example
 * ```ts
 * import { Rng } from "../math/mod.ts";
 * const w = new Float64Array(8);
 * uniformInit(w, 0.5, new Rng(1));
 * ```
 */
export function uniformInit(out: Float64Array, bound: number, rng: Rng): void {
  for (let i = 0; i < out.length; i++) out[i] = Math.fround((2 * rng.uniform() - 1) * bound);
}

/**
 * `torch.nn.Linear`'s default: kaiming-uniform with a = √5 on the weight and the same
 * range on the bias, which both come to U(-1/√fanIn, 1/√fanIn). Weight first, then bias.
 *
 * @example
 * ```ts
 * import { Rng } from "../math/mod.ts";
 * const weight = new Float64Array(4 * 3); // (out 4, in 3)
 * const bias = new Float64Array(4);
 * linearDefaultInit(weight, bias, { fanIn: 3, rng: new Rng(1) });
 * ```
 */
export function linearDefaultInit(
  weight: Float64Array,
  bias: Float64Array,
  opts: { fanIn: number; rng: Rng },
): void {
  const bound = 1 / Math.sqrt(opts.fanIn);
  uniformInit(weight, bound, opts.rng);
  uniformInit(bias, bound, opts.rng);
}

/**
 * `torch.nn.init.xavier_uniform_`: U(-b, b) with b = gain·√(6 / (fanIn + fanOut)).
 *
 * @example
 * ```ts
 * import { Rng } from "../math/mod.ts";
 * const weight = new Float64Array(40 * 64);
 * xavierUniformInit(weight, { fanIn: 64, fanOut: 40, gain: 0.01, rng: new Rng(1) });
 * ```
 */
export function xavierUniformInit(
  weight: Float64Array,
  opts: { fanIn: number; fanOut: number; gain: number; rng: Rng },
): void {
  uniformInit(weight, opts.gain * Math.sqrt(6 / (opts.fanIn + opts.fanOut)), opts.rng);
}
