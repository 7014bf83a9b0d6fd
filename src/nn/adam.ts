/**
 * `torch.optim.Adam` (L2 weight decay added to the gradient, bias-corrected moments)
 * over flat {@linkcode ParamSet}s, and `torch.nn.utils.clip_grad_norm_`.
 *
 * @module
 */

import { sumOfSquares } from "../math/mod.ts";
import type { ParamSet } from "./params.ts";

/** Options of {@linkcode Adam}; defaults are torch's. */
export interface AdamOptions {
  /** learning rate */
  lr: number;
  /** moment decay rates (default [0.9, 0.999]) */
  betas?: [number, number];
  /** added to the denominator, outside the square root (default 1e-8) */
  eps?: number;
  /** L2 penalty added to the gradient, not decoupled as in AdamW (default 0) */
  weightDecay?: number;
  /**
   * Round parameters and both moments to float32 after every step (default true), so the
   * float32 state a checkpoint stores is exact and a resumed run is bit-identical.
   */
  float32?: boolean;
}

/**
 * Adam exactly as `torch.optim.Adam` (single-tensor path of torch 1.13) computes it:
 * g += wd·p; m = β1·m + (1−β1)·g; v = β2·v + (1−β2)·g²;
 * p += −(lr / (1−β1ᵗ)) · m / (√v / √(1−β2ᵗ) + eps).
 * The moments mirror each ParamSet's `data` layout.
 *
 * @example
 * ```ts
 * import { ParamSet } from "./params.ts";
 * const set = new ParamSet([{ name: "w", shape: [3] }]);
 * const adam = new Adam([set], { lr: 3e-4, weightDecay: 1e-4 });
 * set.grad.set([1, -1, 0.5]);
 * adam.step(); // adam.stepCount === 1
 * ```
 */
export class Adam {
  /** the parameter sets stepped, in order */
  readonly paramSets: ReadonlyArray<ParamSet>;
  /** first moments (torch `exp_avg`), one per ParamSet */
  readonly expAvg: Float64Array[];
  /** second moments (torch `exp_avg_sq`), one per ParamSet */
  readonly expAvgSq: Float64Array[];
  /** steps taken so far (torch `step`); set it when restoring a checkpoint */
  stepCount = 0;
  /** learning rate, may be changed between steps */
  lr: number;
  /** moment decay rates [β1, β2] */
  readonly betas: readonly [number, number];
  /** denominator term, outside the square root */
  readonly eps: number;
  /** L2 penalty added to the gradient */
  readonly weightDecay: number;
  /** whether params and moments are rounded to float32 after each step */
  readonly float32: boolean;

  /**
   * Allocates zeroed moments for every set (torch's state before the first step).
   *
   * @param paramSets sets to optimise, in the order torch numbers their tensors
   * @param opts hyperparameters
   */
  constructor(paramSets: ParamSet[], opts: AdamOptions) {
    const [beta1, beta2] = opts.betas ?? [0.9, 0.999];
    const eps = opts.eps ?? 1e-8;
    const weightDecay = opts.weightDecay ?? 0;
    if (!(opts.lr >= 0)) throw new RangeError(`Adam: invalid lr ${opts.lr}`);
    if (!(beta1 >= 0 && beta1 < 1)) throw new RangeError(`Adam: invalid beta1 ${beta1}`);
    if (!(beta2 >= 0 && beta2 < 1)) throw new RangeError(`Adam: invalid beta2 ${beta2}`);
    if (!(eps >= 0)) throw new RangeError(`Adam: invalid eps ${eps}`);
    if (!(weightDecay >= 0)) throw new RangeError(`Adam: invalid weightDecay ${weightDecay}`);
    this.paramSets = [...paramSets];
    this.expAvg = paramSets.map((s) => new Float64Array(s.size));
    this.expAvgSq = paramSets.map((s) => new Float64Array(s.size));
    this.lr = opts.lr;
    this.betas = [beta1, beta2];
    this.eps = eps;
    this.weightDecay = weightDecay;
    this.float32 = opts.float32 ?? true;
  }

  /**
   * One update of every parameter from its current gradient; the set `frozen`, if given,
   * is left as it is, parameters and moments (the step still counts).
   */
  step(frozen?: ParamSet): void {
    this.stepCount++;
    const [beta1, beta2] = this.betas;
    const { eps, weightDecay, float32 } = this;
    const biasCorrection1 = 1 - beta1 ** this.stepCount;
    const biasCorrection2 = 1 - beta2 ** this.stepCount;
    const negStepSize = -(this.lr / biasCorrection1);
    const biasCorrection2Sqrt = Math.sqrt(biasCorrection2);
    const oneMinusBeta1 = 1 - beta1;
    const oneMinusBeta2 = 1 - beta2;
    for (let s = 0; s < this.paramSets.length; s++) {
      if (this.paramSets[s] === frozen) continue;
      const { data: param, grad } = this.paramSets[s];
      const m = this.expAvg[s];
      const v = this.expAvgSq[s];
      for (let i = 0; i < param.length; i++) {
        const p = param[i];
        const g = weightDecay !== 0 ? grad[i] + weightDecay * p : grad[i];
        let mi = m[i] * beta1 + oneMinusBeta1 * g;
        let vi = v[i] * beta2 + oneMinusBeta2 * g * g;
        const denom = Math.sqrt(vi) / biasCorrection2Sqrt + eps;
        let pi = p + negStepSize * mi / denom;
        if (float32) {
          mi = Math.fround(mi);
          vi = Math.fround(vi);
          pi = Math.fround(pi);
        }
        m[i] = mi;
        v[i] = vi;
        param[i] = pi;
      }
    }
  }
}

/**
 * L2 norm of all gradients of a set, as one vector.
 *
 * @example
 * ```ts
 * import { ParamSet } from "./params.ts";
 * const set = new ParamSet([{ name: "w", shape: [2] }]);
 * set.grad.set([3, 4]);
 * gradNorm(set); // 5
 * ```
 */
export function gradNorm(set: ParamSet): number {
  return Math.sqrt(sumOfSquares(set.grad));
}

/**
 * `torch.nn.utils.clip_grad_norm_` on one set: scales every gradient by
 * maxNorm / (norm + 1e-6) when that is below 1. Returns the norm before clipping.
 * `opts.norm`: {@linkcode gradNorm} of the set, when the caller has computed it already.
 *
 * @example
 * ```ts
 * import { ParamSet } from "./params.ts";
 * const set = new ParamSet([{ name: "w", shape: [2] }]);
 * set.grad.set([3, 4]);
 * const norm = clipGradNorm(set, 0.5); // 5; grad is now ≈ [0.3, 0.4]
 * ```
 */
export function clipGradNorm(
  set: ParamSet,
  maxNorm: number,
  opts: { norm?: number } = {},
): number {
  const norm = opts.norm ?? gradNorm(set);
  const coef = maxNorm / (norm + 1e-6);
  if (coef < 1) {
    const g = set.grad;
    for (let i = 0; i < g.length; i++) g[i] *= coef;
  }
  return norm;
}
