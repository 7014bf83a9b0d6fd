/**
 * A pickle parser for torch checkpoints that never runs code: it interprets the
 * opcodes that `torch.save` emits (protocols 2 to 5) with a small stack machine, and
 * the only "calls" it knows are building an OrderedDict, a tensor from a storage and
 * a parameter from a tensor. Any other global is an error naming it. Every budget of
 * `limits.ts` that concerns the pickle is enforced here: integer and string sizes,
 * tensor elements beyond their storage, values materialised, and (once the tree is
 * finished) nesting depth and the size of the tree with shared values expanded.
 *
 * @module
 */

import {
  PtDict,
  type PtDtype,
  PtFormatError,
  type PtKey,
  PtTuple,
  type PtValue,
  quoteName,
  shapeNumel,
  Tensor,
  type TensorData,
} from "./_pt_types.ts";
import {
  CONTAINER_COST,
  MATERIALISE_SLACK,
  MAX_INT_BYTES,
  MAX_PICKLE_DEPTH,
  MAX_STORAGE_KEY_LENGTH,
  MAX_STRING_BYTES,
  MAX_TENSOR_SLACK,
} from "./limits.ts";

/**
 * Returns the elements of storage record `key` as `dtype` (at least `numel` of them),
 * or throws a PtFormatError.
 */
export type StorageLoader = (key: string, dtype: PtDtype, numel: number) => TensorData;

/** A `module.name` the pickle refers to (only allow-listed ones get this far). */
class GlobalRef {
  constructor(readonly module: string, readonly name: string) {}
  toString(): string {
    return `${this.module}.${this.name}`;
  }
}

/** A storage the pickle refers to through a persistent id. */
class StorageRef {
  constructor(readonly key: string, readonly dtype: PtDtype, readonly data: TensorData) {}
}

const STORAGE_DTYPE: Readonly<Record<string, PtDtype>> = {
  FloatStorage: "float32",
  DoubleStorage: "float64",
  LongStorage: "int64",
};

const ALLOWED_GLOBALS = new Set([
  "collections.OrderedDict",
  "torch._utils._rebuild_tensor_v2",
  "torch._utils._rebuild_parameter",
  "torch.FloatStorage",
  "torch.DoubleStorage",
  "torch.LongStorage",
]);

const OPCODE_NAMES: Readonly<Record<number, string>> = {
  0x49: "INT",
  0x4c: "LONG",
  0x46: "FLOAT",
  0x53: "STRING",
  0x56: "UNICODE",
  0x70: "PUT",
  0x67: "GET",
  0x69: "INST",
  0x6f: "OBJ",
  0x81: "NEWOBJ",
  0x92: "NEWOBJ_EX",
  0x82: "EXT1",
  0x83: "EXT2",
  0x84: "EXT4",
  0x42: "BINBYTES",
  0x43: "SHORT_BINBYTES",
  0x8e: "BINBYTES8",
  0x8f: "EMPTY_SET",
  0x90: "ADDITEMS",
  0x91: "FROZENSET",
  0x96: "BYTEARRAY8",
  0x97: "NEXT_BUFFER",
  0x98: "READONLY_BUFFER",
  0x50: "PERSID",
};

/** Decodes UTF-8 as Python's "surrogatepass" does (lone surrogates allowed), or null. */
function decodeUtf8(bytes: Uint8Array): string | null {
  try {
    return new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    // Fall through: maybe encoded surrogates (ED A0..BF xx), which TextDecoder rejects.
  }
  let s = "";
  for (let i = 0; i < bytes.length;) {
    const b = bytes[i];
    let c: number;
    let n: number;
    if (b < 0x80) [c, n] = [b, 0];
    else if (b >= 0xc2 && b < 0xe0) [c, n] = [b & 0x1f, 1];
    else if (b >= 0xe0 && b < 0xf0) [c, n] = [b & 0x0f, 2];
    else if (b >= 0xf0 && b < 0xf5) [c, n] = [b & 0x07, 3];
    else return null;
    for (let k = 1; k <= n; k++) {
      const cont = bytes[i + k];
      if (cont === undefined || (cont & 0xc0) !== 0x80) return null;
      c = (c << 6) | (cont & 0x3f);
    }
    if ((n === 2 && c < 0x800) || (n === 3 && (c < 0x10000 || c > 0x10ffff))) return null;
    s += String.fromCodePoint(c);
    i += n + 1;
  }
  return s;
}

function isInternal(v: unknown): boolean {
  return v instanceof GlobalRef || v instanceof StorageRef;
}

function typeName(v: unknown): string {
  if (v === null) return "None";
  if (v instanceof GlobalRef) return `global ${v}`;
  if (v instanceof StorageRef) return "storage";
  if (Array.isArray(v)) return "list";
  if (v instanceof PtTuple) return "tuple";
  if (v instanceof PtDict) return "dict";
  if (v instanceof Tensor) return "tensor";
  if (typeof v === "number") return Number.isInteger(v) ? "int" : "float";
  if (typeof v === "bigint") return "int";
  if (typeof v === "string") return "str";
  if (typeof v === "boolean") return "bool";
  return typeof v;
}

function isIndex(v: unknown): v is number {
  return typeof v === "number" && Number.isSafeInteger(v) && v >= 0;
}

function emptyLike(data: TensorData, n: number): TensorData {
  if (data instanceof Float32Array) return new Float32Array(n);
  if (data instanceof Float64Array) return new Float64Array(n);
  return new BigInt64Array(n);
}

/** Stack machine state for one pickle. */
class Unpickler {
  readonly #bytes: Uint8Array;
  readonly #view: DataView;
  readonly #source: string;
  readonly #loadStorage: StorageLoader;
  #pos = 0;
  /** Position of the opcode being run, for messages. */
  #at = 0;
  readonly #stack: unknown[] = [];
  readonly #marks: number[] = [];
  readonly #memo = new Map<number, unknown>();
  /** Tuples that hold (maybe deep down) a global or storage: never part of the result. */
  readonly #tainted = new WeakSet<PtTuple>();
  /** Most values this pickle may materialise (see `materialiseBudget` in limits.ts). */
  readonly #budget: number;
  /**
   * Values materialised beyond one per opcode: tensor elements copied out of a storage,
   * entries of an OrderedDict built from a list (the same list can be used many times).
   */
  #materialised = 0;

  constructor(bytes: Uint8Array, source: string, opts: UnpickleOptions) {
    this.#bytes = bytes;
    this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.#source = source;
    this.#loadStorage = opts.loadStorage;
    this.#budget = opts.budget;
  }

  /** A new list, tuple or dict `c`, charged {@linkcode CONTAINER_COST} values. */
  #container<T>(c: T): T {
    this.#charge(CONTAINER_COST);
    return c;
  }

  /** Counts `n` more values materialised against the budget. */
  #charge(n: number): void {
    this.#materialised += n;
    if (this.#materialised > this.#budget) {
      this.#failAt(
        `pickle materialises more than ${this.#budget} values, over the limit for this file ` +
          `(its size in bytes + ${MATERIALISE_SLACK})`,
      );
    }
  }

  #fail(problem: string): never {
    throw new PtFormatError(this.#source, problem);
  }

  #failAt(problem: string): never {
    return this.#fail(`${problem} (pickle byte ${this.#at})`);
  }

  #truncated(): never {
    return this.#fail(`truncated pickle (data.pkl ends inside the opcode at byte ${this.#at})`);
  }

  #need(n: number): number {
    const at = this.#pos;
    if (n > this.#bytes.length - at) this.#truncated();
    this.#pos = at + n;
    return at;
  }

  #u8(): number {
    return this.#bytes[this.#need(1)];
  }
  #u16(): number {
    return this.#view.getUint16(this.#need(2), true);
  }
  #i32(): number {
    return this.#view.getInt32(this.#need(4), true);
  }
  #u32(): number {
    return this.#view.getUint32(this.#need(4), true);
  }
  #u64(): number {
    const n = this.#view.getBigUint64(this.#need(8), true);
    if (n > BigInt(this.#bytes.length)) this.#truncated();
    return Number(n);
  }

  #text(n: number): string {
    if (n > MAX_STRING_BYTES) {
      this.#failAt(`string of ${n} bytes is over the limit of ${MAX_STRING_BYTES} bytes`);
    }
    const at = this.#need(n);
    const s = decodeUtf8(this.#bytes.subarray(at, at + n));
    return s ?? this.#failAt("invalid UTF-8 in a pickled string");
  }

  /** A newline-terminated ASCII line (GLOBAL's operands). */
  #line(): string {
    const end = this.#bytes.indexOf(0x0a, this.#pos);
    if (end < 0) this.#truncated();
    const s = new TextDecoder().decode(this.#bytes.subarray(this.#pos, end));
    this.#pos = end + 1;
    return s;
  }

  #long(n: number): number | bigint {
    if (n > MAX_INT_BYTES) {
      this.#failAt(`integer of ${n} bytes is over the limit of ${MAX_INT_BYTES} bytes`);
    }
    const at = this.#need(n);
    if (n === 0) return 0;
    // Little-endian two's complement; via hex so that decoding is linear in n.
    let hex = "0x";
    for (let i = n - 1; i >= 0; i--) hex += this.#bytes[at + i].toString(16).padStart(2, "0");
    const x = BigInt.asIntN(8 * n, BigInt(hex));
    return x >= BigInt(Number.MIN_SAFE_INTEGER) && x <= BigInt(Number.MAX_SAFE_INTEGER)
      ? Number(x)
      : x;
  }

  #push(v: unknown): void {
    this.#stack.push(v);
  }

  #pop(): unknown {
    if (this.#stack.length === 0 || this.#stack.length === this.#marks.at(-1)) {
      this.#failAt("pickle stack underflow");
    }
    return this.#stack.pop();
  }

  #top(): unknown {
    if (this.#stack.length === 0 || this.#stack.length === this.#marks.at(-1)) {
      this.#failAt("pickle stack underflow");
    }
    return this.#stack[this.#stack.length - 1];
  }

  #popMark(): unknown[] {
    const mark = this.#marks.pop();
    if (mark === undefined) this.#failAt("pickle pops a MARK that was never pushed");
    return this.#stack.splice(mark);
  }

  /** Checks that `v` may be stored in a list or dict of the result. */
  #value(v: unknown, where: string): PtValue {
    if (isInternal(v) || (v instanceof PtTuple && this.#tainted.has(v))) {
      this.#failAt(`pickle puts a bare ${typeName(v)} into a ${where}`);
    }
    return v as PtValue;
  }

  #key(k: unknown): PtKey {
    if (typeof k === "string" || typeof k === "number") return k;
    return this.#failAt(`dict key of type ${typeName(k)} is not supported`);
  }

  #tuple(items: unknown[]): PtTuple {
    const t = this.#container(new PtTuple(items as PtValue[]));
    if (items.some((v) => isInternal(v) || (v instanceof PtTuple && this.#tainted.has(v)))) {
      this.#tainted.add(t);
    }
    return t;
  }

  #setItems(dict: unknown, items: unknown[], op: string): void {
    if (!(dict instanceof PtDict)) this.#failAt(`${op} on a ${typeName(dict)}, not a dict`);
    if (items.length % 2 !== 0) this.#failAt(`${op} with an odd number of items`);
    for (let i = 0; i < items.length; i += 2) {
      dict.set(this.#key(items[i]), this.#value(items[i + 1], "dict"));
    }
  }

  #appends(list: unknown, items: unknown[], op: string): void {
    if (!Array.isArray(list)) this.#failAt(`${op} on a ${typeName(list)}, not a list`);
    for (const item of items) list.push(this.#value(item, "list"));
  }

  #global(module: string, name: string): GlobalRef {
    const full = `${module}.${name}`;
    if (ALLOWED_GLOBALS.has(full)) return new GlobalRef(module, name);
    if (module === "torch" && /^[A-Za-z0-9]+Storage$/.test(name)) {
      this.#failAt(`storage type ${quoteName(full)} is not supported (float32/64, int64 only)`);
    }
    return this.#failAt(`pickle calls global ${quoteName(full)}, which is not allowed`);
  }

  #persistentLoad(pid: unknown): StorageRef {
    const items = pid instanceof PtTuple ? pid.items as unknown[] : [];
    const [kind, cls, key, , numel] = items;
    if (
      items.length !== 5 || kind !== "storage" || !(cls instanceof GlobalRef) ||
      typeof key !== "string" || typeof items[3] !== "string" || !isIndex(numel)
    ) {
      this.#failAt("persistent id is not a ('storage', type, key, location, numel) tuple");
    }
    if (key.length > MAX_STORAGE_KEY_LENGTH) {
      // torch's keys are short decimal numbers; a long one would be hashed at every use.
      this.#failAt(`storage key of ${key.length} characters (torch writes short numbers)`);
    }
    const dtype = STORAGE_DTYPE[cls.name];
    if (cls.module !== "torch" || dtype === undefined) {
      this.#failAt(`persistent id names ${quoteName(cls.toString())}, not a storage type`);
    }
    return new StorageRef(key, dtype, this.#loadStorage(key, dtype, numel));
  }

  #rebuildTensor(args: unknown[]): Tensor {
    const [storage, offset, size, stride] = args;
    if (
      (args.length !== 6 && args.length !== 7) || !(storage instanceof StorageRef) ||
      !isIndex(offset) || !(size instanceof PtTuple) || !(stride instanceof PtTuple) ||
      size.items.length !== stride.items.length || !size.items.every(isIndex) ||
      !stride.items.every(isIndex)
    ) {
      this.#failAt("_rebuild_tensor_v2 called with unexpected arguments");
    }
    const shape = size.items as number[];
    const strides = stride.items as number[];
    const numel = shapeNumel(shape);
    const data = storage.data;
    const what = `tensor of shape [${shape.join(", ")}]`;
    if (numel === 0) return new Tensor(storage.dtype, shape, emptyLike(data, 0));
    let last = offset;
    for (let d = 0; d < shape.length; d++) last += (shape[d] - 1) * strides[d];
    if (last >= data.length) {
      this.#failAt(
        `storage '${storage.key}' holds ${data.length} ${storage.dtype} values but the ${what} ` +
          `at offset ${offset} needs ${last + 1}`,
      );
    }
    if (numel > data.length + MAX_TENSOR_SLACK) {
      this.#failAt(
        `${what} has ${numel} elements but its storage '${storage.key}' holds ${data.length}: ` +
          `over the limit of ${MAX_TENSOR_SLACK} elements beyond the storage`,
      );
    }
    let contiguous = true;
    for (let d = shape.length - 1, s = 1; d >= 0; d--) {
      if (shape[d] !== 1 && strides[d] !== s) contiguous = false;
      s *= shape[d];
    }
    if (contiguous) {
      // A tensor spanning its whole storage keeps it (shared, as in torch); views copy.
      const whole = offset === 0 && numel === data.length;
      if (!whole) this.#charge(numel);
      return new Tensor(storage.dtype, shape, whole ? data : data.slice(offset, offset + numel));
    }
    this.#charge(numel);
    const out = emptyLike(data, numel);
    const src = data as Float64Array; // element reads/writes alike for all three types
    const dst = out as Float64Array;
    const ndim = shape.length;
    const index = new Array<number>(ndim).fill(0);
    let at = offset;
    for (let i = 0; i < numel; i++) {
      dst[i] = src[at];
      for (let d = ndim - 1; d >= 0; d--) {
        at += strides[d];
        if (++index[d] < shape[d]) break;
        at -= strides[d] * shape[d];
        index[d] = 0;
      }
    }
    return new Tensor(storage.dtype, shape, out);
  }

  #reduce(fn: unknown, args: unknown): unknown {
    if (!(fn instanceof GlobalRef) || !(args instanceof PtTuple)) {
      return this.#failAt(`REDUCE calls a ${typeName(fn)} with a ${typeName(args)}`);
    }
    const items = args.items as unknown[];
    switch (fn.toString()) {
      case "collections.OrderedDict": {
        const dict = this.#container(new PtDict([], true));
        if (items.length === 0) return dict;
        const pairs = items[0];
        if (items.length === 1 && Array.isArray(pairs)) {
          this.#charge(pairs.length);
          for (const pair of pairs) {
            if (!(pair instanceof PtTuple) || pair.items.length !== 2) {
              this.#failAt("OrderedDict built from something other than (key, value) pairs");
            }
            dict.set(this.#key(pair.items[0]), this.#value(pair.items[1], "dict"));
          }
          return dict;
        }
        return this.#failAt("OrderedDict called with unexpected arguments");
      }
      case "torch._utils._rebuild_tensor_v2":
        return this.#rebuildTensor(items);
      case "torch._utils._rebuild_parameter":
        if (items.length !== 3 || !(items[0] instanceof Tensor)) {
          this.#failAt("_rebuild_parameter called with unexpected arguments");
        }
        return items[0];
    }
    return this.#failAt(`${quoteName(fn.toString())} cannot be called`);
  }

  #memoGet(idx: number): unknown {
    if (!this.#memo.has(idx)) this.#failAt(`pickle reads memo entry ${idx}, which was never set`);
    return this.#memo.get(idx);
  }

  /** Runs the pickle to its STOP and returns the result. */
  run(): PtValue {
    const bytes = this.#bytes;
    for (;;) {
      this.#at = this.#pos;
      if (this.#pos >= bytes.length) {
        this.#fail(`truncated pickle (no STOP opcode before byte ${bytes.length})`);
      }
      const op = bytes[this.#pos++];
      switch (op) {
        case 0x80: { // PROTO
          const proto = this.#u8();
          if (proto > 5) this.#failAt(`unsupported pickle protocol ${proto}`);
          break;
        }
        case 0x95: // FRAME: only a length hint
          this.#need(8);
          break;
        case 0x2e: { // STOP
          const result = this.#value(this.#pop(), "checkpoint");
          checkTree(result, this.#budget, (problem) => this.#failAt(problem));
          return result;
        }
        case 0x28: // MARK
          this.#marks.push(this.#stack.length);
          break;
        case 0x30: // POP
          this.#pop();
          break;
        case 0x31: // POP_MARK
          this.#popMark();
          break;
        case 0x32: // DUP
          this.#push(this.#top());
          break;
        case 0x4e: // NONE
          this.#push(null);
          break;
        case 0x88: // NEWTRUE
          this.#push(true);
          break;
        case 0x89: // NEWFALSE
          this.#push(false);
          break;
        case 0x4a: // BININT
          this.#push(this.#i32());
          break;
        case 0x4b: // BININT1
          this.#push(this.#u8());
          break;
        case 0x4d: // BININT2
          this.#push(this.#u16());
          break;
        case 0x8a: // LONG1
          this.#push(this.#long(this.#u8()));
          break;
        case 0x8b: { // LONG4
          const n = this.#i32();
          if (n < 0) this.#failAt("LONG4 with a negative length");
          this.#push(this.#long(n));
          break;
        }
        case 0x47: // BINFLOAT (big-endian)
          this.#push(this.#view.getFloat64(this.#need(8), false));
          break;
        case 0x58: // BINUNICODE
          this.#push(this.#text(this.#u32()));
          break;
        case 0x8c: // SHORT_BINUNICODE
          this.#push(this.#text(this.#u8()));
          break;
        case 0x8d: // BINUNICODE8
          this.#push(this.#text(this.#u64()));
          break;
        case 0x54: { // BINSTRING (Python 2 str; torch.load decodes it as UTF-8)
          const n = this.#i32();
          if (n < 0) this.#failAt("BINSTRING with a negative length");
          this.#push(this.#text(n));
          break;
        }
        case 0x55: // SHORT_BINSTRING
          this.#push(this.#text(this.#u8()));
          break;
        case 0x7d: // EMPTY_DICT
          this.#push(this.#container(new PtDict()));
          break;
        case 0x64: { // DICT
          const dict = this.#container(new PtDict());
          this.#setItems(dict, this.#popMark(), "DICT");
          this.#push(dict);
          break;
        }
        case 0x73: { // SETITEM
          const value = this.#pop();
          const key = this.#pop();
          this.#setItems(this.#top(), [key, value], "SETITEM");
          break;
        }
        case 0x75: { // SETITEMS
          const items = this.#popMark();
          this.#setItems(this.#top(), items, "SETITEMS");
          break;
        }
        case 0x5d: // EMPTY_LIST
          this.#push(this.#container([]));
          break;
        case 0x6c: { // LIST
          const list: PtValue[] = this.#container([]);
          this.#appends(list, this.#popMark(), "LIST");
          this.#push(list);
          break;
        }
        case 0x61: { // APPEND
          const item = this.#pop();
          this.#appends(this.#top(), [item], "APPEND");
          break;
        }
        case 0x65: { // APPENDS
          const items = this.#popMark();
          this.#appends(this.#top(), items, "APPENDS");
          break;
        }
        case 0x29: // EMPTY_TUPLE
          this.#push(this.#container(new PtTuple([])));
          break;
        case 0x74: // TUPLE
          this.#push(this.#tuple(this.#popMark()));
          break;
        case 0x85: // TUPLE1
        case 0x86: // TUPLE2
        case 0x87: { // TUPLE3
          const n = op - 0x84;
          const items = new Array<unknown>(n);
          for (let i = n - 1; i >= 0; i--) items[i] = this.#pop();
          this.#push(this.#tuple(items));
          break;
        }
        case 0x71: // BINPUT
          this.#memo.set(this.#u8(), this.#top());
          break;
        case 0x72: // LONG_BINPUT
          this.#memo.set(this.#u32(), this.#top());
          break;
        case 0x94: // MEMOIZE
          this.#memo.set(this.#memo.size, this.#top());
          break;
        case 0x68: // BINGET
          this.#push(this.#memoGet(this.#u8()));
          break;
        case 0x6a: // LONG_BINGET
          this.#push(this.#memoGet(this.#u32()));
          break;
        case 0x63: { // GLOBAL
          const module = this.#line();
          this.#push(this.#global(module, this.#line()));
          break;
        }
        case 0x93: { // STACK_GLOBAL
          const name = this.#pop();
          const module = this.#pop();
          if (typeof module !== "string" || typeof name !== "string") {
            this.#failAt("STACK_GLOBAL needs two strings");
          }
          this.#push(this.#global(module, name));
          break;
        }
        case 0x52: { // REDUCE
          const args = this.#pop();
          const fn = this.#pop();
          this.#push(this.#reduce(fn, args));
          break;
        }
        case 0x62: { // BUILD
          // Only OrderedDict state (a state_dict's `_metadata` attribute): dropped.
          const state = this.#pop();
          const target = this.#top();
          if (!(target instanceof PtDict) || !target.ordered) {
            this.#failAt(`BUILD on a ${typeName(target)} is not supported`);
          }
          if (state !== null && !(state instanceof PtDict) && !(state instanceof PtTuple)) {
            this.#failAt(`BUILD with a ${typeName(state)} state is not supported`);
          }
          break;
        }
        case 0x51: // BINPERSID
          this.#push(this.#persistentLoad(this.#pop()));
          break;
        default: {
          const hex = `0x${op.toString(16).padStart(2, "0")}`;
          const name = OPCODE_NAMES[op];
          this.#failAt(
            name === undefined
              ? `unknown pickle opcode ${hex}`
              : `unsupported pickle opcode ${name} (${hex})`,
          );
        }
      }
    }
  }
}

/** Options of {@linkcode unpickleTree}. */
export interface UnpickleOptions {
  /** Returns the elements of a storage record. */
  loadStorage: StorageLoader;
  /** Most values the pickle may materialise, also once shared values are expanded. */
  budget: number;
}

function isContainer(v: PtValue): v is PtValue[] | PtTuple | PtDict {
  return Array.isArray(v) || v instanceof PtTuple || v instanceof PtDict;
}

/** What a string costs each time it appears: 1, plus 1 per 64 characters. */
function stringCost(s: string): number {
  return 1 + Math.floor(s.length / 64);
}

/** A container being walked: its list of items, or an iterator over its dict's values. */
interface Frame {
  node: PtValue[] | PtTuple | PtDict;
  items: PtValue[] | null;
  values: Iterator<PtValue> | null;
  next: number;
}

/**
 * Checks the finished tree once, iteratively, so that every walker of it afterwards
 * (to JSON, `inspect`, the checkpoint readers) is safe with plain recursion: nesting is
 * at most MAX_PICKLE_DEPTH deep (so no container holds itself), and the tree expanded
 * (a shared value counted at every place it appears: a "billion laughs" pickle) holds
 * at most `budget` values. The walk goes over the expanded tree, each step counting at
 * least 1, so it stops within `budget` steps whatever the sharing.
 */
function checkTree(root: PtValue, budget: number, fail: (problem: string) => never): void {
  if (!isContainer(root)) return;
  const stack: Frame[] = [];
  let total = 0;
  const count = (n: number) => {
    total += n;
    if (total > budget) {
      fail(
        `pickle holds more than ${budget} values once shared values are counted where they ` +
          `appear, over the limit for this file (its size in bytes + ${MATERIALISE_SLACK})`,
      );
    }
  };
  const enter = (node: PtValue[] | PtTuple | PtDict) => {
    if (stack.length >= MAX_PICKLE_DEPTH) {
      if (stack.some((f) => f.node === node)) {
        fail(`pickle builds a ${typeName(node)} that contains itself, which is not supported`);
      }
      fail(`pickle nests lists, tuples or dicts deeper than the limit of ${MAX_PICKLE_DEPTH}`);
    }
    let cost = 1;
    if (node instanceof PtDict) {
      for (const k of node.keys()) cost += typeof k === "string" ? stringCost(k) : 1;
    }
    count(cost);
    const dict = node instanceof PtDict;
    stack.push({
      node,
      items: dict ? null : node instanceof PtTuple ? node.items : node,
      values: dict ? node.values() : null,
      next: 0,
    });
  };
  enter(root);
  while (stack.length > 0) {
    const top = stack[stack.length - 1];
    let child: PtValue;
    if (top.items !== null) {
      if (top.next === top.items.length) {
        stack.pop();
        continue;
      }
      child = top.items[top.next++];
    } else {
      const step = top.values!.next();
      if (step.done) {
        stack.pop();
        continue;
      }
      child = step.value;
    }
    if (typeof child === "string") count(stringCost(child));
    else if (typeof child !== "object" || child === null) count(1);
    else if (child instanceof Tensor) count(1 + child.numel);
    else enter(child);
  }
}

/**
 * Parses a torch `data.pkl`; storages come from `opts.loadStorage`. `source` names the
 * file in every error. The result is a tree (no container holds itself) at most
 * MAX_PICKLE_DEPTH deep, within `opts.budget` values even with shared values expanded.
 *
 * @example
 * ```ts ignore
 * const root = unpickleTree(zip.read(zip.entry("best/data.pkl")!), "best.pt", {
 *   loadStorage,
 *   budget: materialiseBudget(fileBytes),
 * });
 * ```
 */
export function unpickleTree(
  pickle: Uint8Array,
  source: string,
  opts: UnpickleOptions,
): PtValue {
  return new Unpickler(pickle, source, opts).run();
}
