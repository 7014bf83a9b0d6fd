/**
 * Powers of two as exact scale factors: a model's parameters are held in a scaled
 * parametrisation and stored in the PyTorch one (see `ActorCritic.storedFactors`).
 *
 * @module
 */

/**
 * Converts values in place between a model's parametrisation and the stored one:
 * `values[i] *= factors[i % factors.length] ** power`, where `factors` comes from
 * `ActorCritic.storedFactors`. Power 1 takes a parameter to its stored form,
 * -1 its Adam `exp_avg` and -2 its `exp_avg_sq` (a stored parameter f·p has gradient
 * g / f); the negated powers convert back. Factors are powers of two, so every
 * conversion is exact (outside the subnormal range) and round trips bit for bit.
 *
 * @example
 * ```ts
 * const w = new Float64Array([1, 1, 1, 1]); // (2, 2), columns scaled by [1, 1/4]
 * scaleByFactors(w, new Float64Array([1, 0.25]), 1); // w = [1, 0.25, 1, 0.25]
 * ```
 */
export function scaleByFactors(values: Float64Array, factors: Float64Array, power: number): void {
  const d = factors.length;
  if (!Number.isInteger(power) || values.length % d !== 0) {
    throw new RangeError(`cannot scale ${values.length} numbers by ${d} factors to ${power}`);
  }
  // f^power by repeated exact multiplications (f and 1/f are powers of two)
  const scaled = Float64Array.from(factors, (f) => {
    let x = 1;
    for (let k = 0; k < Math.abs(power); k++) x *= power > 0 ? f : 1 / f;
    return x;
  });
  for (let i = 0; i < values.length; i++) values[i] *= scaled[i % d];
}

/**
 * True when `x` is 2^k for an integer k in [-1000, 1000]: scaling by it is exact.
 *
 * @example
 * ```ts
 * isPowerOfTwo(32); // true
 * isPowerOfTwo(10); // false
 * ```
 */
export function isPowerOfTwo(x: number): boolean {
  if (!(x > 0) || !Number.isFinite(x)) return false;
  const k = Math.round(Math.log2(x));
  return Math.abs(k) <= 1000 && 2 ** k === x;
}
