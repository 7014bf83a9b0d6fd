/**
 * Pickles a checkpoint tree the way `torch.save` (pickle protocol 2) does: same
 * opcodes, same memo indices, tensors as `torch._utils._rebuild_tensor_v2` calls whose
 * storages are persistent ids pointing at `data/<key>` records.
 *
 * Python memoizes by object identity; here containers and tensors are memoized by
 * identity too, and strings by value (Python's interned identifiers behave the same),
 * so a tree pickles to the same bytes every time. The opcodes and byte encodings are
 * in `_pickle_bytes.ts`.
 *
 * @module
 */

import {
  PtDict,
  type PtDtype,
  PtTuple,
  type PtValue,
  Tensor,
  type TensorData,
} from "./_pt_types.ts";
import { BATCH_SIZE, ByteSink, encodeLong, encodeUtf8, OP } from "./_pickle_bytes.ts";

/** The pickle and the storage records it refers to. */
export interface PickledTree {
  /** The `data.pkl` bytes. */
  pickle: Uint8Array;
  /** Storage records in key order of first use ("0", "1", ...). */
  storages: { key: string; bytes: Uint8Array }[];
}

const STORAGE_CLASS: Readonly<Record<PtDtype, string>> = {
  float32: "FloatStorage",
  float64: "DoubleStorage",
  int64: "LongStorage",
};

const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function storageBytes(data: TensorData): Uint8Array {
  if (LITTLE_ENDIAN_HOST) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  const out = new Uint8Array(data.byteLength);
  const view = new DataView(out.buffer);
  if (data instanceof Float32Array) data.forEach((x, i) => view.setFloat32(i * 4, x, true));
  else if (data instanceof Float64Array) data.forEach((x, i) => view.setFloat64(i * 8, x, true));
  else data.forEach((x, i) => view.setBigInt64(i * 8, x, true));
  return out;
}

/** Row-major strides of a contiguous tensor, as torch computes them (0-size dims count 1). */
function contiguousStrides(shape: readonly number[]): number[] {
  const strides = new Array<number>(shape.length);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = s;
    s *= Math.max(shape[i], 1);
  }
  return strides;
}

function describe(v: unknown): string {
  if (v === undefined) return "undefined";
  if (typeof v === "object" && v !== null) return v.constructor?.name ?? "object";
  return typeof v;
}

class Pickler {
  readonly out = new ByteSink();
  readonly storages: { key: string; bytes: Uint8Array }[] = [];
  #memoSize = 0;
  readonly #strings = new Map<string, number>();
  readonly #objects = new Map<object, number>();
  readonly #globals = new Map<string, number>();
  readonly #storageKeys = new Map<TensorData, string>();
  readonly #tuplesInProgress = new Set<PtTuple>();

  /** BINPUT the value on top of the stack under the next memo index. */
  #put(): number {
    const idx = this.#memoSize++;
    if (idx < 256) this.out.op1(OP.BINPUT, idx);
    else this.out.op4(OP.LONG_BINPUT, idx);
    return idx;
  }

  #get(idx: number): void {
    if (idx < 256) this.out.op1(OP.BINGET, idx);
    else this.out.op4(OP.LONG_BINGET, idx);
  }

  #global(module: string, name: string): void {
    const id = `${module} ${name}`;
    const seen = this.#globals.get(id);
    if (seen !== undefined) return this.#get(seen);
    this.out.byte(OP.GLOBAL);
    this.out.bytes(encodeUtf8(`${module}\n${name}\n`));
    this.#globals.set(id, this.#put());
  }

  #string(s: string): void {
    const seen = this.#strings.get(s);
    if (seen !== undefined) return this.#get(seen);
    const utf8 = encodeUtf8(s);
    this.out.op4(OP.BINUNICODE, utf8.length);
    this.out.bytes(utf8);
    this.#strings.set(s, this.#put());
  }

  #int(x: number | bigint): void {
    if (typeof x === "number" || (x >= -0x80000000n && x <= 0x7fffffffn)) {
      const n = Number(x);
      if (n >= 0 && n <= 0xff) return this.out.op1(OP.BININT1, n);
      if (n >= 0 && n <= 0xffff) return this.out.op2(OP.BININT2, n);
      if (n >= -0x80000000 && n <= 0x7fffffff) return this.out.op4(OP.BININT, n);
    }
    const bytes = encodeLong(BigInt(x));
    if (bytes.length < 256) this.out.op1(OP.LONG1, bytes.length);
    else this.out.op4(OP.LONG4, bytes.length);
    this.out.bytes(bytes);
  }

  #number(x: number): void {
    if (Number.isSafeInteger(x) && !Object.is(x, -0)) this.#int(x);
    else this.out.float(x);
  }

  /** A tuple of ints, as torch's size and stride tuples (fresh objects: memoized anew). */
  #intTuple(xs: readonly number[]): void {
    if (xs.length === 0) return this.out.byte(OP.EMPTY_TUPLE);
    if (xs.length > 3) this.out.byte(OP.MARK);
    for (const x of xs) this.#int(x);
    this.#endTuple(xs.length);
    this.#put();
  }

  #endTuple(n: number): void {
    if (n === 1) this.out.byte(OP.TUPLE1);
    else if (n === 2) this.out.byte(OP.TUPLE2);
    else if (n === 3) this.out.byte(OP.TUPLE3);
    else this.out.byte(OP.TUPLE);
  }

  /** `collections.OrderedDict()`, as an object of its own (memoized, never shared). */
  #emptyOrderedDict(): number {
    this.#global("collections", "OrderedDict");
    this.out.byte(OP.EMPTY_TUPLE);
    this.out.byte(OP.REDUCE);
    return this.#put();
  }

  #tensor(t: Tensor): void {
    const seen = this.#objects.get(t);
    if (seen !== undefined) return this.#get(seen);
    let key = this.#storageKeys.get(t.data);
    if (key === undefined) {
      key = String(this.#storageKeys.size);
      this.#storageKeys.set(t.data, key);
      this.storages.push({ key, bytes: storageBytes(t.data) });
    }
    this.#global("torch._utils", "_rebuild_tensor_v2");
    this.out.byte(OP.MARK);
    // Persistent id: ('storage', torch.<Type>Storage, key, location, numel).
    this.out.byte(OP.MARK);
    this.#string("storage");
    this.#global("torch", STORAGE_CLASS[t.dtype]);
    this.#string(key);
    this.#string("cpu");
    this.#int(t.data.length);
    this.out.byte(OP.TUPLE);
    this.#put();
    this.out.byte(OP.BINPERSID);
    this.#int(0); // storage offset
    this.#intTuple(t.shape);
    this.#intTuple(contiguousStrides(t.shape));
    this.out.byte(OP.NEWFALSE); // requires_grad
    this.#emptyOrderedDict(); // backward hooks
    this.out.byte(OP.TUPLE);
    this.#put();
    this.out.byte(OP.REDUCE);
    this.#objects.set(t, this.#put());
  }

  #list(list: PtValue[], path: string): void {
    this.out.byte(OP.EMPTY_LIST);
    this.#objects.set(list, this.#put());
    for (let start = 0; start < list.length; start += BATCH_SIZE) {
      const stop = Math.min(start + BATCH_SIZE, list.length);
      if (stop - start > 1) this.out.byte(OP.MARK);
      for (let i = start; i < stop; i++) this.save(list[i], `${path}[${i}]`);
      this.out.byte(stop - start > 1 ? OP.APPENDS : OP.APPEND);
    }
  }

  #dict(dict: PtDict, path: string): void {
    if (dict.ordered) this.#objects.set(dict, this.#emptyOrderedDict());
    else {
      this.out.byte(OP.EMPTY_DICT);
      this.#objects.set(dict, this.#put());
    }
    const entries = [...dict.entries()];
    for (let start = 0; start < entries.length; start += BATCH_SIZE) {
      const stop = Math.min(start + BATCH_SIZE, entries.length);
      if (stop - start > 1) this.out.byte(OP.MARK);
      for (let i = start; i < stop; i++) {
        const [key, value] = entries[i];
        if (typeof key === "string") this.#string(key);
        else if (typeof key === "number") this.#number(key);
        else throw new TypeError(`cannot pickle a dict key of type ${describe(key)} in ${path}`);
        this.save(value, `${path}[${JSON.stringify(key)}]`);
      }
      this.out.byte(stop - start > 1 ? OP.SETITEMS : OP.SETITEM);
    }
  }

  #tuple(tuple: PtTuple, path: string): void {
    const items = tuple.items;
    if (items.length === 0) return this.out.byte(OP.EMPTY_TUPLE);
    if (this.#tuplesInProgress.has(tuple)) {
      throw new TypeError(`cannot pickle a tuple that contains itself at ${path}`);
    }
    this.#tuplesInProgress.add(tuple);
    if (items.length > 3) this.out.byte(OP.MARK);
    items.forEach((item, i) => this.save(item, `${path}[${i}]`));
    this.#tuplesInProgress.delete(tuple);
    this.#endTuple(items.length);
    this.#objects.set(tuple, this.#put());
  }

  save(v: PtValue, path: string): void {
    if (v === null) return this.out.byte(OP.NONE);
    switch (typeof v) {
      case "boolean":
        return this.out.byte(v ? OP.NEWTRUE : OP.NEWFALSE);
      case "number":
        return this.#number(v);
      case "bigint":
        return this.#int(v);
      case "string":
        return this.#string(v);
    }
    if (typeof v === "object") {
      const seen = this.#objects.get(v);
      if (seen !== undefined) return this.#get(seen);
      if (Array.isArray(v)) return this.#list(v, path);
      if (v instanceof PtDict) return this.#dict(v, path);
      if (v instanceof PtTuple) return this.#tuple(v, path);
      if (v instanceof Tensor) return this.#tensor(v);
    }
    throw new TypeError(`cannot pickle a value of type ${describe(v)} at ${path}`);
  }
}

/**
 * Pickles `root` with protocol 2 as `torch.save` does. Tensors sharing one `data`
 * array share one storage record.
 *
 * @example
 * ```ts
 * import { PtDict, Tensor } from "./_pt_types.ts";
 * const w = new Tensor("float32", [2], new Float32Array([1, 2]));
 * const { pickle, storages } = pickleTree(new PtDict([["w", w]], true));
 * storages.length; // 1
 * ```
 */
export function pickleTree(root: PtValue): PickledTree {
  const p = new Pickler();
  p.out.op1(OP.PROTO, 2);
  p.save(root, "root");
  p.out.byte(OP.STOP);
  return { pickle: p.out.result(), storages: p.storages };
}
