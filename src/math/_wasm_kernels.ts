/**
 * The kernels of `_wasm_gemm.ts` as WebAssembly, through the assembler of
 * `_wasm_asm.ts`: the register-blocked gemm loop nest for both layouts of A, the f64x2
 * transpose, and the module holding them.
 *
 * @module
 */

import { Body, ByteWriter, I32, V128 } from "./_wasm_asm.ts";

/** How A is laid out: `"rows"`: A[i, p] at a + i*sa + 8p; `"cols"`: at a + 8i + p*sa. */
type ALayout = "rows" | "cols";

const SIMD_F64X2_ADD = 0xf0;
const SIMD_F64X2_MUL = 0xf2;
const SIMD_F64X2_MAX = 0xf5;
const SIMD_F64X2_GT = 0x4a;
const SIMD_V128_BITSELECT = 0x52;
const SIMD_F64X2_RELAXED_MADD = 0x107;
const SIMD_I32X4_SPLAT = 0x11;

/** Parameters of every gemm function, in order. */
const P = { c: 0, a: 1, b: 2, m: 3, n: 4, k: 5, ldc: 6, sa: 7, ldb: 8 } as const;

/**
 * `C (m, n) += A (m, k) · B (k, n)`, all offsets and strides in bytes:
 * C[i, j] at c + i*ldc + 8j, B[p, j] at b + p*ldb + 8j, A per `layout`.
 */
function gemmBody(layout: ALayout, relaxed: boolean): Body {
  return new GemmEmitter(layout, relaxed).emit();
}

/**
 * The code of one gemm function, emitted into `f`: rows taken `maxRows` at a time, then
 * the last ones in smaller blocks ({@linkcode GemmEmitter.emit}); in each block the
 * columns four at a time, then two, then one ({@linkcode GemmEmitter.rowBlock}); for
 * each tile the loop over p ({@linkcode GemmEmitter.tile}, {@linkcode GemmEmitter.step}).
 */
class GemmEmitter {
  readonly f = new Body(9);
  readonly maxRows: number;
  // the function's locals, declared in this order
  readonly i: number;
  readonly j: number;
  readonly p: number;
  readonly cRow: number;
  readonly aRow: number;
  readonly cp: number;
  readonly bp: number;
  readonly aps: number[];
  readonly acc: number[];
  readonly bv: number[];
  readonly splat: number;

  constructor(readonly layout: ALayout, readonly relaxed: boolean) {
    const f = this.f;
    this.maxRows = relaxed ? 6 : 5;
    this.i = f.local(I32);
    this.j = f.local(I32);
    this.p = f.local(I32);
    this.cRow = f.local(I32);
    this.aRow = f.local(I32);
    this.cp = f.local(I32);
    this.bp = f.local(I32);
    this.aps = Array.from({ length: layout === "rows" ? this.maxRows : 1 }, () => f.local(I32));
    this.acc = Array.from({ length: this.maxRows * 2 }, () => f.local(V128));
    this.bv = [f.local(V128), f.local(V128)];
    this.splat = f.local(V128);
  }

  /** The whole function: every row block, the full ones first. */
  emit(): Body {
    const { f, i, maxRows } = this;
    f.const(0).set(i);
    f.block().loop();
    f.get(i).const(maxRows).op("add").get(P.m).op("gt_s").brIf(1);
    this.setRowPointers();
    this.rowBlock(maxRows);
    f.addConst(i, maxRows).br(0).end().end();
    for (let rows = maxRows - 1; rows >= 1; rows--) {
      f.get(P.m).get(i).op("sub").const(rows).op("ge_s").if();
      this.setRowPointers();
      this.rowBlock(rows);
      f.addConst(i, rows);
      f.end();
    }
    return f;
  }

  /** One step of p for a tile of `rows` × `vecs` vectors; A offsets `aOff` (bytes) */
  step(rows: number, vecs: number, half: boolean, aOff: number): void {
    const { f, layout, relaxed, bp, aps, acc, bv, splat } = this;
    for (let v = 0; v < vecs; v++) {
      f.get(bp);
      if (half) f.load64Zero(0);
      else f.v128Load(16 * v);
      f.set(bv[v]);
    }
    f.addTo(bp, P.ldb);
    for (let r = 0; r < rows; r++) {
      if (layout === "rows") f.get(aps[r]).load64Splat(aOff);
      else f.get(aps[0]).load64Splat(8 * r);
      f.set(splat);
      for (let v = 0; v < vecs; v++) {
        const a = acc[r * 2 + v];
        if (relaxed) {
          f.get(splat).get(bv[v]).get(a).simd(SIMD_F64X2_RELAXED_MADD).set(a);
        } else {
          f.get(a).get(splat).get(bv[v]).simd(SIMD_F64X2_MUL).simd(SIMD_F64X2_ADD).set(a);
        }
      }
    }
    if (layout === "cols") f.addTo(aps[0], P.sa);
  }

  /** The tile at (i, j): rows × (2 vecs or 1 vec, maybe half) */
  tile(rows: number, vecs: number, half: boolean): void {
    const { f, layout, j, p, cRow, aRow, cp, bp, aps, acc, maxRows } = this;
    // cp = cRow + 8j; bp = b + 8j; A pointers
    f.get(j).const(3).op("shl").set(cp);
    f.get(P.b).get(cp).op("add").set(bp);
    f.addTo(cp, cRow);
    if (layout === "rows") {
      f.get(aRow).set(aps[0]);
      for (let r = 1; r < rows; r++) f.get(aps[r - 1]).get(P.sa).op("add").set(aps[r]);
    } else {
      f.get(aRow).set(aps[0]);
    }
    for (let r = 0; r < rows; r++) {
      for (let v = 0; v < vecs; v++) {
        f.get(cp);
        if (r > 0) f.get(P.ldc).const(r).op("mul").op("add");
        if (half) f.load64Zero(16 * v);
        else f.v128Load(16 * v);
        f.set(acc[r * 2 + v]);
      }
    }
    f.get(P.k).set(p);
    // Whole tiles: p unrolled by 4 (for "rows", A offsets are immediates and the row
    // pointers move 32 bytes per 4 steps). Then, and for the edge tiles (which would
    // only make the code, and the compiler's memory, several times larger), one step
    // at a time.
    if (rows === maxRows && vecs === 2) {
      f.block().loop();
      f.get(p).const(4).op("lt_s").brIf(1);
      for (let u = 0; u < 4; u++) this.step(rows, vecs, half, 8 * u);
      if (layout === "rows") { for (let r = 0; r < rows; r++) f.addConst(aps[r], 32); }
      f.addConst(p, -4).br(0).end().end();
    }
    f.block().loop();
    f.get(p).op("eqz").brIf(1);
    this.step(rows, vecs, half, 0);
    if (layout === "rows") { for (let r = 0; r < rows; r++) f.addConst(aps[r], 8); }
    f.addConst(p, -1).br(0).end().end();
    for (let r = 0; r < rows; r++) {
      for (let v = 0; v < vecs; v++) {
        f.get(cp);
        if (r > 0) f.get(P.ldc).const(r).op("mul").op("add");
        f.get(acc[r * 2 + v]);
        if (half) f.store64Lane0(16 * v);
        else f.v128Store(16 * v);
      }
    }
  }

  /** All columns of the row block starting at i (cRow, aRow set), `rows` tall. */
  rowBlock(rows: number): void {
    const { f, j } = this;
    f.const(0).set(j);
    f.block().loop();
    f.get(j).const(4).op("add").get(P.n).op("gt_s").brIf(1);
    this.tile(rows, 2, false);
    f.addConst(j, 4).br(0).end().end();
    f.get(j).const(2).op("add").get(P.n).op("gt_s").op("eqz").if();
    this.tile(rows, 1, false);
    f.addConst(j, 2);
    f.end();
    f.get(j).get(P.n).op("lt_s").if();
    this.tile(rows, 1, true);
    f.end();
  }

  /** cRow and aRow for the row block starting at i. */
  setRowPointers(): void {
    const { f, layout, i, cRow, aRow } = this;
    f.get(P.c).get(i).get(P.ldc).op("mul").op("add").set(cRow);
    if (layout === "rows") f.get(P.a).get(i).get(P.sa).op("mul").op("add").set(aRow);
    else f.get(P.a).get(i).const(3).op("shl").op("add").set(aRow);
  }
}

/**
 * `dst (cols, rows) = src (rows, cols)ᵀ`, f64, offsets in bytes: 2 × 2 blocks through
 * two f64x2 shuffles, then the odd last column and row one element at a time.
 */
function transposeBody(): Body {
  const f = new Body(4); // dst, src, rows, cols
  const [dst, src, rows, cols] = [0, 1, 2, 3];
  const r = f.local(I32), c = f.local(I32), s = f.local(I32), d = f.local(I32);
  const srcStride = f.local(I32), dstStride = f.local(I32);
  const v0 = f.local(V128), v1 = f.local(V128);
  const low = [0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23];
  const high = low.map((lane) => lane + 8);
  f.get(cols).const(3).op("shl").set(srcStride);
  f.get(rows).const(3).op("shl").set(dstStride);
  /** the loop over columns of row r (s, d at column 0), `pair`: rows r and r + 1 */
  const columns = (pair: boolean) => {
    f.const(0).set(c);
    if (pair) {
      f.block().loop();
      f.get(c).const(2).op("add").get(cols).op("gt_s").brIf(1);
      f.get(s).v128Load(0).set(v0);
      f.get(s).get(srcStride).op("add").v128Load(0).set(v1);
      f.get(d).get(v0).get(v1).shuffle(low).v128Store(0);
      f.get(d).get(dstStride).op("add").get(v0).get(v1).shuffle(high).v128Store(0);
      f.addConst(s, 16).addTo(d, dstStride).addTo(d, dstStride).addConst(c, 2);
      f.br(0).end().end();
    }
    f.block().loop();
    f.get(c).get(cols).op("ge_s").brIf(1);
    f.get(d).get(s).f64Load(0).f64Store(0);
    if (pair) f.get(d).get(s).get(srcStride).op("add").f64Load(0).f64Store(8);
    f.addConst(s, 8).addTo(d, dstStride).addConst(c, 1);
    f.br(0).end().end();
  };
  /** s = src + 8 r cols; d = dst + 8 r */
  const rowPointers = () => {
    f.get(src).get(r).get(srcStride).op("mul").op("add").set(s);
    f.get(dst).get(r).const(3).op("shl").op("add").set(d);
  };
  f.const(0).set(r);
  f.block().loop();
  f.get(r).const(2).op("add").get(rows).op("gt_s").brIf(1);
  rowPointers();
  columns(true);
  f.addConst(r, 2).br(0).end().end();
  f.get(r).get(rows).op("lt_s").if();
  rowPointers();
  columns(false);
  f.end();
  return f;
}

/**
 * `x = max(x, 0)` over the `count` f64 at byte offset `at`, two at a time (`f64x2.max`:
 * +0 for -0, NaN stays NaN, as `Math.max(x, 0)`); an odd count also rewrites the f64
 * after the last, so the region needs 8 bytes of slack.
 */
function reluBody(): Body {
  const f = new Body(2); // at, count
  const [at, count] = [0, 1];
  const end = f.local(I32), zero = f.local(V128);
  f.const(0).simd(SIMD_I32X4_SPLAT).set(zero);
  f.get(at).get(count).const(3).op("shl").op("add").set(end);
  f.block().loop();
  f.get(at).get(end).op("ge_s").brIf(1);
  f.get(at).get(at).v128Load(0).get(zero).simd(SIMD_F64X2_MAX).v128Store(0);
  f.addConst(at, 16).br(0).end().end();
  return f;
}

/**
 * ReLU's backward over `count` f64: `d[i] += g[i]` where `act[i] > 0`, else `d[i]`
 * unchanged (a bit select, so even a -0 in d stays as it is); byte offsets `d`, `g`,
 * `act`. An odd count also rewrites the f64 after the last of d (8 bytes of slack).
 */
function reluBackBody(): Body {
  const f = new Body(4); // d, g, act, count
  const [d, g, act, count] = [0, 1, 2, 3];
  const end = f.local(I32), zero = f.local(V128), old = f.local(V128);
  f.const(0).simd(SIMD_I32X4_SPLAT).set(zero);
  f.get(d).get(count).const(3).op("shl").op("add").set(end);
  f.block().loop();
  f.get(d).get(end).op("ge_s").brIf(1);
  f.get(d).v128Load(0).set(old);
  f.get(d);
  f.get(old).get(g).v128Load(0).simd(SIMD_F64X2_ADD);
  f.get(old);
  f.get(act).v128Load(0).get(zero).simd(SIMD_F64X2_GT);
  f.simd(SIMD_V128_BITSELECT).v128Store(0);
  f.addConst(d, 16).addConst(g, 16).addConst(act, 16).br(0).end().end();
  return f;
}

/**
 * The module's bytes: memory (exported as `memory`), `gemm_rows`, `gemm_cols` (the
 * two A layouts), `transpose`, `relu` and `relu_back`. `relaxed` picks `f64x2.relaxed_madd` over
 * mul + add.
 */
export function gemmModuleBytes(relaxed: boolean): Uint8Array<ArrayBuffer> {
  const out = new ByteWriter();
  const section = (id: number, fill: (payload: ByteWriter) => void) => {
    const payload = new ByteWriter();
    fill(payload);
    out.byte(id);
    out.sized(payload.bytes());
  };
  out.append([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]); // magic, version 1
  section(1, (t) => { // types: 0 = (i32 x 9) -> (), 1 = (i32 x 4) -> (), 2 = (i32 x 2) -> ()
    t.uleb(3);
    for (const params of [9, 4, 2]) {
      t.byte(0x60);
      t.uleb(params);
      for (let i = 0; i < params; i++) t.byte(I32);
      t.uleb(0);
    }
  });
  section(3, (f) => f.append([5, 0, 0, 1, 2, 1])); // five functions and their types
  section(5, (m) => m.append([1, 0x00, 1])); // one memory: min 1 page, no max
  section(7, (e) => { // exports
    e.uleb(6);
    e.name("memory");
    e.append([0x02, 0]);
    ["gemm_rows", "gemm_cols", "transpose", "relu", "relu_back"].forEach((fn, index) => {
      e.name(fn);
      e.append([0x00, index]);
    });
  });
  section(10, (c) => { // code
    const bodies = [
      gemmBody("rows", relaxed),
      gemmBody("cols", relaxed),
      transposeBody(),
      reluBody(),
      reluBackBody(),
    ];
    c.uleb(bodies.length);
    for (const body of bodies) body.encodeTo(c);
  });
  return out.bytes();
}
