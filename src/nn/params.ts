/**
 * All tensors of one network in one allocation, llm.c style: `data` holds every
 * parameter back to back, `grad` mirrors it, and named views point into both.
 *
 * @module
 */

/** Name and shape of one parameter tensor, e.g. `{ name: "net.0.weight", shape: [64, 41] }`. */
export interface ParamSpec {
  /** state_dict key, e.g. `"net.0.weight"` */
  name: string;
  /** tensor shape; linear weights are [out, in] as in torch */
  shape: number[];
}

/** A {@linkcode ParamSpec} placed in the flat arrays. */
export interface PlacedParamSpec extends ParamSpec {
  /** first element in `data` / `grad` */
  offset: number;
  /** number of elements (product of the shape) */
  size: number;
}

/**
 * The parameters of one network as one flat `Float64Array`, with gradients mirroring
 * the layout. Optimiser state (Adam moments) mirrors it too.
 *
 * @example
 * ```ts
 * const set = new ParamSet([
 *   { name: "net.0.weight", shape: [4, 3] },
 *   { name: "net.0.bias", shape: [4] },
 * ]);
 * set.view("net.0.bias").fill(0.1); // writes into set.data[12..16)
 * set.zeroGrad();
 * ```
 */
export class ParamSet {
  /** tensors in declaration order with their place in `data` */
  readonly specs: ReadonlyArray<Readonly<PlacedParamSpec>>;
  /** total number of parameters */
  readonly size: number;
  /** every parameter, back to back in `specs` order */
  readonly data: Float64Array;
  /** gradients, same layout as `data` */
  readonly grad: Float64Array;
  readonly #byName = new Map<string, Readonly<PlacedParamSpec>>();

  /**
   * Lays the tensors out back to back and allocates `data` and `grad` (zeros).
   *
   * @param specs tensors in order; names must be unique and dims positive integers
   */
  constructor(specs: ParamSpec[]) {
    const placed: PlacedParamSpec[] = [];
    let offset = 0;
    for (const spec of specs) {
      if (this.#byName.has(spec.name)) throw new Error(`duplicate parameter name "${spec.name}"`);
      if (spec.shape.some((d) => !Number.isInteger(d) || d <= 0)) {
        throw new RangeError(
          `parameter "${spec.name}": bad shape ${JSON.stringify(spec.shape)}`,
        );
      }
      const size = spec.shape.reduce((a, d) => a * d, 1);
      const p = Object.freeze({ name: spec.name, shape: [...spec.shape], offset, size });
      placed.push(p);
      this.#byName.set(spec.name, p);
      offset += size;
    }
    this.specs = placed;
    this.size = offset;
    this.data = new Float64Array(offset);
    this.grad = new Float64Array(offset);
  }

  /** Placement of the tensor `name`; throws naming the known keys if there is none. */
  spec(name: string): Readonly<PlacedParamSpec> {
    const spec = this.#byName.get(name);
    if (spec === undefined) {
      throw new Error(`no parameter "${name}" (have: ${[...this.#byName.keys()].join(", ")})`);
    }
    return spec;
  }

  /** The values of tensor `name`: a view into `data`, so writes change the parameters. */
  view(name: string): Float64Array {
    const { offset, size } = this.spec(name);
    return this.data.subarray(offset, offset + size);
  }

  /** The gradient of tensor `name`: a view into `grad`. */
  gradView(name: string): Float64Array {
    const { offset, size } = this.spec(name);
    return this.grad.subarray(offset, offset + size);
  }

  /** Sets every gradient to zero (gradients accumulate until then). */
  zeroGrad(): void {
    this.grad.fill(0);
  }
}
