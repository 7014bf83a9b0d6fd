/**
 * Tests of the torch `.pt` reader and writer: the torch-written fixtures, round trips,
 * byte-for-byte agreement with `torch.save`, and every way a file can be bad.
 * No Python needed: torch's output is pinned by the fixtures and a golden file.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import {
  decodePt,
  encodePt,
  PtDict,
  PtFormatError,
  PtTuple,
  type PtValue,
  readPt,
  Tensor,
  writePt,
} from "../src/io/torch_pt.ts";
import { writeFileAtomic, writeFileAtomicSync } from "../src/io/atomic.ts";
import { crc32, writeZip, ZipReader } from "../src/io/_zip.ts";
import { fixturePath, readFixtureJson, withTempDir } from "./_helpers.ts";

/**
 * What `torch.save(tree, "golden.pt")` wrote with torch 1.13.0a0 (Debian python3-torch):
 *
 * ```python
 * sd = collections.OrderedDict()
 * sd["net.0.weight"] = torch.arange(6, dtype=torch.float32).reshape(2, 3) / 4
 * sd["net.0.bias"] = torch.tensor([-1.5, 2.25], dtype=torch.float64)
 * tree = {"head": sd, "state": {0: {"step": torch.tensor(3.0)}},
 *         "ids": torch.tensor([1, -2, 3], dtype=torch.int64),
 *         "cfg": {"lr": 0.0003, "hidden": 64, "tag": "run-1", "resume": None, "flag": True,
 *                 "off": False},
 *         "betas": (0.9, 0.999), "big": 2**70, "neg": -5, "mid": 70000,
 *         "list": [1, 2.5, [], ()], "empty": {}}
 * ```
 */
const GOLDEN_BASE64 = [
  "UEsDBAAACAgAAAAAAAAAAAAAAAAAAAAAAAAPABMAZ29sZGVuL2RhdGEucGtsRkIPAFpaWlpaWlpaWlpaWlpaWoACfXEAKFgE",
  "AAAAaGVhZHEBY2NvbGxlY3Rpb25zCk9yZGVyZWREaWN0CnECKVJxAyhYDAAAAG5ldC4wLndlaWdodHEEY3RvcmNoLl91dGls",
  "cwpfcmVidWlsZF90ZW5zb3JfdjIKcQUoKFgHAAAAc3RvcmFnZXEGY3RvcmNoCkZsb2F0U3RvcmFnZQpxB1gBAAAAMHEIWAMA",
  "AABjcHVxCUsGdHEKUUsASwJLA4ZxC0sDSwGGcQyJaAIpUnENdHEOUnEPWAoAAABuZXQuMC5iaWFzcRBoBSgoaAZjdG9yY2gK",
  "RG91YmxlU3RvcmFnZQpxEVgBAAAAMXESaAlLAnRxE1FLAEsChXEUSwGFcRWJaAIpUnEWdHEXUnEYdVgFAAAAc3RhdGVxGX1x",
  "GksAfXEbWAQAAABzdGVwcRxoBSgoaAZoB1gBAAAAMnEdaAlLAXRxHlFLACkpiWgCKVJxH3RxIFJxIXNzWAMAAABpZHNxImgF",
  "KChoBmN0b3JjaApMb25nU3RvcmFnZQpxI1gBAAAAM3EkaAlLA3RxJVFLAEsDhXEmSwGFcSeJaAIpUnEodHEpUnEqWAMAAABj",
  "ZmdxK31xLChYAgAAAGxycS1HPzOpKjBVMmFYBgAAAGhpZGRlbnEuS0BYAwAAAHRhZ3EvWAUAAABydW4tMXEwWAYAAAByZXN1",
  "bWVxMU5YBAAAAGZsYWdxMohYAwAAAG9mZnEziXVYBQAAAGJldGFzcTRHP+zMzMzMzM1HP+/3ztkWhyuGcTVYAwAAAGJpZ3E2",
  "igkAAAAAAAAAAEBYAwAAAG5lZ3E3Svv///9YAwAAAG1pZHE4SnARAQBYBAAAAGxpc3RxOV1xOihLAUdABAAAAAAAAF1xOyll",
  "WAUAAABlbXB0eXE8fXE9dS5QSwcIzHjaL6ECAAChAgAAUEsDBAAACAgAAAAAAAAAAAAAAAAAAAAAAAANACQAZ29sZGVuL2Rh",
  "dGEvMEZCIABaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWgAAAAAAAIA+AAAAPwAAQD8AAIA/AACgP1BLBwhS5ecf",
  "GAAAABgAAABQSwMEAAAICAAAAAAAAAAAAAAAAAAAAAAAAA0ALQBnb2xkZW4vZGF0YS8xRkIpAFpaWlpaWlpaWlpaWlpaWlpa",
  "WlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaAAAAAAAA+L8AAAAAAAACQFBLBwhmqxc8EAAAABAAAABQSwMEAAAICAAAAAAAAAAA",
  "AAAAAAAAAAAAAA0ANQBnb2xkZW4vZGF0YS8yRkIxAFpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpa",
  "WlpaWlpaWloAAEBAUEsHCInR4acEAAAABAAAAFBLAwQAAAgIAAAAAAAAAAAAAAAAAAAAAAAADQBBAGdvbGRlbi9kYXRhLzNG",
  "Qj0AWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWgEAAAAAAAAA",
  "/v////////8DAAAAAAAAAFBLBwhPtG2VGAAAABgAAABQSwMEAAAICAAAAAAAAAAAAAAAAAAAAAAAAA4ALABnb2xkZW4vdmVy",
  "c2lvbkZCKABaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaMwpQSwcI0Z5nVQIAAAACAAAAUEsBAgAA",
  "AAAICAAAAAAAAMx42i+hAgAAoQIAAA8AAAAAAAAAAAAAAAAAAAAAAGdvbGRlbi9kYXRhLnBrbFBLAQIAAAAACAgAAAAAAABS",
  "5ecfGAAAABgAAAANAAAAAAAAAAAAAAAAAPECAABnb2xkZW4vZGF0YS8wUEsBAgAAAAAICAAAAAAAAGarFzwQAAAAEAAAAA0A",
  "AAAAAAAAAAAAAAAAaAMAAGdvbGRlbi9kYXRhLzFQSwECAAAAAAgIAAAAAAAAidHhpwQAAAAEAAAADQAAAAAAAAAAAAAAAADg",
  "AwAAZ29sZGVuL2RhdGEvMlBLAQIAAAAACAgAAAAAAABPtG2VGAAAABgAAAANAAAAAAAAAAAAAAAAAFQEAABnb2xkZW4vZGF0",
  "YS8zUEsBAgAAAAAICAAAAAAAANGeZ1UCAAAAAgAAAA4AAAAAAAAAAAAAAAAA6AQAAGdvbGRlbi92ZXJzaW9uUEsGBiwAAAAA",
  "AAAAHgMtAAAAAAAAAAAABgAAAAAAAAAGAAAAAAAAAGUBAAAAAAAAUgUAAAAAAABQSwYHAAAAALcGAAAAAAAAAQAAAFBLBQYA",
  "AAAABgAGAGUBAABSBQAAAAA=",
].join("");

function goldenTree(): PtDict {
  return new PtDict([
    [
      "head",
      new PtDict([
        [
          "net.0.weight",
          new Tensor("float32", [2, 3], new Float32Array([0, 0.25, 0.5, 0.75, 1, 1.25])),
        ],
        ["net.0.bias", new Tensor("float64", [2], new Float64Array([-1.5, 2.25]))],
      ], true),
    ],
    [
      "state",
      new PtDict([[0, new PtDict([["step", new Tensor("float32", [], new Float32Array([3]))]])]]),
    ],
    ["ids", new Tensor("int64", [3], new BigInt64Array([1n, -2n, 3n]))],
    [
      "cfg",
      new PtDict([
        ["lr", 0.0003],
        ["hidden", 64],
        ["tag", "run-1"],
        ["resume", null],
        ["flag", true],
        ["off", false],
      ]),
    ],
    ["betas", new PtTuple([0.9, 0.999])],
    ["big", 2n ** 70n],
    ["neg", -5],
    ["mid", 70000],
    ["list", [1, 2.5, [], new PtTuple([])]],
    ["empty", new PtDict()],
  ]);
}

function fromBase64(s: string): Uint8Array {
  return Uint8Array.from(atob(s), (c) => c.charCodeAt(0));
}

function dict(v: PtValue | undefined, where: string): PtDict {
  assert.ok(v instanceof PtDict, `${where}: expected a dict, got ${String(v)}`);
  return v;
}

function tensor(v: PtValue | undefined, where: string): Tensor {
  assert.ok(v instanceof Tensor, `${where}: expected a tensor`);
  return v;
}

/**
 * Asserts that `actual` matches an `.expected.json` value exactly: tensors as
 * {shape, dtype, data} (float32 compared with Math.fround of the expected number),
 * dict keys as strings in order, tuples as lists.
 */
function assertMatchesExpected(actual: PtValue | undefined, expected: unknown, path: string): void {
  if (expected === null || typeof expected !== "object") {
    if (typeof actual === "bigint") assert.equal(actual, BigInt(expected as number), path);
    else assert.equal(actual, expected, path);
    return;
  }
  if (Array.isArray(expected)) {
    const items = actual instanceof PtTuple ? actual.items : actual;
    assert.ok(Array.isArray(items), `${path}: expected a list or tuple`);
    assert.equal(items.length, expected.length, `${path}: length`);
    expected.forEach((e, i) => assertMatchesExpected(items[i], e, `${path}[${i}]`));
    return;
  }
  const obj = expected as Record<string, unknown>;
  const keys = Object.keys(obj);
  if (keys.length === 3 && "shape" in obj && "dtype" in obj && "data" in obj) {
    const t = tensor(actual, path);
    assert.equal(t.dtype, obj.dtype, `${path}: dtype`);
    assert.deepEqual(t.shape, obj.shape, `${path}: shape`);
    const data = obj.data as number[];
    assert.equal(t.data.length, data.length, `${path}: numel`);
    for (let i = 0; i < data.length; i++) {
      const want = t.dtype === "float32"
        ? Math.fround(data[i])
        : t.dtype === "int64"
        ? BigInt(data[i])
        : data[i];
      if (t.data[i] !== want) assert.fail(`${path}[${i}]: ${t.data[i]} !== ${want}`);
    }
    return;
  }
  const d = dict(actual, path);
  const wanted = path === "" ? keys.filter((k) => k !== "about") : keys;
  assert.deepEqual([...d.keys()].map(String), wanted, `${path}: keys`);
  for (const [k, v] of d.entries()) assertMatchesExpected(v, obj[String(k)], `${path}/${k}`);
}

/** Deep equality of two decoded trees: types, dict order and kind, tensors bit for bit. */
function assertPtEqual(actual: PtValue | undefined, expected: PtValue, path = "root"): void {
  if (expected instanceof Tensor) {
    const t = tensor(actual, path);
    assert.equal(t.dtype, expected.dtype, `${path}: dtype`);
    assert.deepEqual(t.shape, expected.shape, `${path}: shape`);
    assert.equal(t.data.constructor, expected.data.constructor, `${path}: data type`);
    assert.equal(t.data.length, expected.data.length, `${path}: numel`);
    for (let i = 0; i < t.data.length; i++) {
      if (!Object.is(t.data[i], expected.data[i])) {
        assert.fail(`${path}[${i}]: ${t.data[i]} !== ${expected.data[i]}`);
      }
    }
  } else if (expected instanceof PtDict) {
    const d = dict(actual, path);
    assert.equal(d.ordered, expected.ordered, `${path}: ordered`);
    assert.deepEqual([...d.keys()], [...expected.keys()], `${path}: keys`);
    for (const [k, v] of expected.entries()) assertPtEqual(d.get(k), v, `${path}[${k}]`);
  } else if (expected instanceof PtTuple) {
    assert.ok(actual instanceof PtTuple, `${path}: expected a tuple`);
    assert.equal(actual.items.length, expected.items.length, `${path}: length`);
    expected.items.forEach((v, i) => assertPtEqual(actual.items[i], v, `${path}[${i}]`));
  } else if (Array.isArray(expected)) {
    assert.ok(Array.isArray(actual), `${path}: expected a list`);
    assert.equal(actual.length, expected.length, `${path}: length`);
    expected.forEach((v, i) => assertPtEqual(actual[i], v, `${path}[${i}]`));
  } else {
    assert.ok(Object.is(actual, expected), `${path}: ${String(actual)} !== ${String(expected)}`);
  }
}

function entryNames(bytes: Uint8Array): string[] {
  return new ZipReader(bytes, "test").entries.map((e) => e.name);
}

// ---------------------------------------------------------------------------------------
// Fixtures written by torch.save

Deno.test("reads seed_checkpoint.pt: every value, shape and dtype of its expected.json", async () => {
  const ckpt = await readPt(fixturePath("torch/seed_checkpoint.pt"));
  const expected = readFixtureJson("torch/seed_checkpoint.expected.json");
  assertMatchesExpected(ckpt, expected, "");

  const root = dict(ckpt, "root");
  assert.equal(root.ordered, false);
  assert.equal(dict(root.get("delta_head"), "delta_head").ordered, true);
  assert.equal(dict(root.get("value_head"), "value_head").ordered, true);
  const optimizer = dict(root.get("optimizer"), "optimizer");
  const state = dict(optimizer.get("state"), "state");
  assert.deepEqual([...state.keys()], [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]); // int keys
  const step = tensor(dict(state.get(0), "state[0]").get("step"), "step");
  assert.deepEqual(step.shape, []);
  assert.equal(step.numel, 1);
  const groups = optimizer.get("param_groups");
  assert.ok(Array.isArray(groups) && groups.length === 1);
  const group = dict(groups[0], "param_groups[0]");
  assert.ok(group.get("betas") instanceof PtTuple, "betas is a tuple");
  assert.deepEqual(group.get("params"), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  assert.equal(group.get("foreach"), null);
  assert.equal(group.get("amsgrad"), false);
  const cfg = dict(root.get("cfg"), "cfg");
  assert.equal(cfg.get("resume"), null);
  assert.equal(cfg.get("device"), "cpu");
  assert.equal(cfg.get("lr"), 0.0003);
});

Deno.test("reads misc.pt: dtypes, 0-d tensor, views sharing a storage, nested values", async () => {
  const misc = await readPt(fixturePath("torch/misc.pt"));
  const expected = readFixtureJson("torch/misc.expected.json");
  assertMatchesExpected(misc, expected, "");

  const root = dict(misc, "root");
  assert.ok(tensor(root.get("f64"), "f64").data instanceof Float64Array);
  assert.ok(tensor(root.get("i64"), "i64").data instanceof BigInt64Array);
  const nested = dict(root.get("nested"), "nested");
  assert.ok(nested.get("tuple") instanceof PtTuple);
  assert.deepEqual(nested.get("list"), [1, 2, "x", null, true]);
  // Views are copied out: changing one does not change its base.
  const base = tensor(root.get("f32"), "f32");
  tensor(root.get("row1"), "row1").data[0] = 99;
  assert.equal(base.data[4], 4);
});

Deno.test("fixtures re-encoded decode to the same values, keeping torch's storage keys", async () => {
  for (const name of ["seed_checkpoint", "misc"]) {
    const bytes = await Deno.readFile(fixturePath(`torch/${name}.pt`));
    const first = decodePt(bytes, { source: name });
    const encoded = encodePt(first, { archiveName: name });
    const second = decodePt(encoded, { source: `${name} re-encoded` });
    assertPtEqual(second, first);
    const expected = readFixtureJson(`torch/${name}.expected.json`);
    assertMatchesExpected(second, expected, "");
    assert.deepEqual(encodePt(second, { archiveName: name }), encoded, `${name}: stable bytes`);
  }
  // seed_checkpoint has no views, so storage keys are assigned as torch assigned them.
  const original = await Deno.readFile(fixturePath("torch/seed_checkpoint.pt"));
  const encoded = encodePt(decodePt(original), { archiveName: "seed_checkpoint" });
  const a = new ZipReader(original, "fixture");
  const b = new ZipReader(encoded, "encoded");
  assert.deepEqual(b.entries.map((e) => e.name), a.entries.map((e) => e.name));
  for (const e of a.entries) {
    if (!e.name.includes("/data/")) continue;
    assert.deepEqual(b.read(b.entry(e.name)!), a.read(e), e.name);
  }
});

// ---------------------------------------------------------------------------------------
// Writer

Deno.test("encodePt writes exactly the bytes torch.save wrote (golden file)", () => {
  const golden = fromBase64(GOLDEN_BASE64);
  const mine = encodePt(goldenTree(), { archiveName: "golden" });
  assert.equal(mine.length, golden.length);
  assert.deepEqual(mine, golden);
  // And reading torch's file gives the tree back.
  assertPtEqual(decodePt(golden, { source: "golden.pt" }), goldenTree());
});

Deno.test("zip layout: stored, 64-byte aligned data, FB padding, valid CRCs, version 3", () => {
  const bytes = encodePt(goldenTree(), { archiveName: "ckpt" });
  const zip = new ZipReader(bytes, "ckpt.pt");
  assert.deepEqual(zip.entries.map((e) => e.name), [
    "ckpt/data.pkl",
    "ckpt/data/0",
    "ckpt/data/1",
    "ckpt/data/2",
    "ckpt/data/3",
    "ckpt/version",
  ]);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (const e of zip.entries) {
    const p = e.localHeaderOffset;
    const nameLength = view.getUint16(p + 26, true);
    const extra = p + 30 + nameLength;
    assert.equal(String.fromCharCode(bytes[extra], bytes[extra + 1]), "FB", e.name);
    const dataStart = extra + view.getUint16(p + 28, true);
    assert.equal(dataStart % 64, 0, `${e.name} aligned`);
    assert.equal(e.method, 0);
    assert.equal(crc32(zip.read(e)), e.crc32);
  }
  assert.equal(new TextDecoder().decode(zip.read(zip.entry("ckpt/version")!)), "3\n");
  assert.equal(crc32(new TextEncoder().encode("123456789")), 0xcbf43926);
});

function roundTripTree(): PtDict {
  const rng = (i: number) => Math.fround(Math.sin(i * 12.9898) * 0.5);
  const f32 = (shape: number[]) => {
    const t = new Tensor("float32", shape, new Float32Array(shape.reduce((a, b) => a * b, 1)));
    t.data.forEach((_, i) => (t.data[i] = rng(i + shape.length)));
    return t;
  };
  const delta = new PtDict([
    ["log_std", f32([20, 2])],
    ["net.0.weight", f32([64, 41])],
    ["net.0.bias", f32([64])],
  ], true);
  const shared = f32([3]);
  const sharedData = new Float32Array([1, 2, 3, 4]);
  const state = new PtDict();
  for (const [i, param] of [...delta.values()].entries()) {
    const shape = (param as Tensor).shape;
    state.set(
      i,
      new PtDict([
        ["step", new Tensor("float32", [], new Float32Array([5]))],
        ["exp_avg", f32(shape)],
        ["exp_avg_sq", f32(shape)],
      ]),
    );
  }
  return new PtDict([
    ["delta_head", delta],
    [
      "optimizer",
      new PtDict([
        ["state", state],
        [
          "param_groups",
          [
            new PtDict([
              ["lr", 3e-4],
              ["betas", new PtTuple([0.9, 0.999])],
              ["eps", 1e-8],
              ["weight_decay", 1e-4],
              ["amsgrad", false],
              ["foreach", null],
              ["params", [0, 1, 2]],
            ]),
          ],
        ],
      ]),
    ],
    [
      "cfg",
      new PtDict([
        ["hidden_dim", 64],
        ["gamma", 0.99],
        ["device", "cpu"],
        ["name", "héllo ✓ 🚗"],
        ["resume", null],
        ["flag", true],
      ]),
    ],
    ["ints", [0, 1, 255, 256, 65535, 65536, -1, -128, -129, 2 ** 31 - 1, -(2 ** 31), 2 ** 31]],
    ["floats", [0.5, -0.0, 1e300, -2.5e-310, Infinity, -Infinity, NaN, 2 ** 53]],
    ["big", [2n ** 70n, -(2n ** 63n), 2n ** 64n - 1n, -(2n ** 2000n)]],
    ["i64", new Tensor("int64", [2, 2], new BigInt64Array([1n, -(2n ** 63n), 2n ** 62n, -7n]))],
    ["f64", new Tensor("float64", [3], new Float64Array([Math.PI, -0, 1e-300]))],
    ["empty_tensor", new Tensor("float32", [0, 3], new Float32Array(0))],
    ["same_tensor_twice", [shared, shared]],
    [
      "same_data",
      new PtTuple([
        new Tensor("float32", [4], sharedData),
        new Tensor("float32", [2, 2], sharedData),
      ]),
    ],
    ["int_key_dict", new PtDict([[1, "one"], ["1", "string one"], [0.5, "half"]])],
    ["empties", new PtTuple([[], new PtTuple([]), new PtDict(), new PtDict([], true), ""])],
    ["long_list", Array.from({ length: 2500 }, (_, i) => i % 7 === 0 ? `s${i % 5}` : i)],
  ]);
}

Deno.test("round trip: checkpoint-like tree decodes equal and re-encodes byte-identical", () => {
  const tree = roundTripTree();
  const bytes = encodePt(tree);
  assert.deepEqual(encodePt(roundTripTree()), bytes, "same input, same bytes");
  const back = decodePt(bytes, { source: "roundtrip.pt" });
  assertPtEqual(back, tree);
  assert.deepEqual(encodePt(back), bytes, "written, read, written again: same bytes");

  const root = dict(back, "root");
  // One tensor saved twice is one object again; tensors sharing data share one storage.
  const twice = root.get("same_tensor_twice") as PtValue[];
  assert.equal(twice[0], twice[1]);
  const sameData = root.get("same_data") as PtTuple;
  assert.equal((sameData.items[0] as Tensor).data, (sameData.items[1] as Tensor).data);
  assert.equal(entryNames(bytes).filter((n) => n.includes("/data/")).length, 3 + 3 * 3 + 5);
});

Deno.test("numbers: safe integers are Python ints, others floats; big ints read as bigint", () => {
  const back = dict(
    decodePt(encodePt(new PtDict([["a", 5n], ["b", 2 ** 60], ["c", 2n ** 60n], ["d", -0]]))),
    "root",
  );
  assert.equal(back.get("a"), 5); // small bigint: a Python int, read back as a number
  assert.equal(back.get("b"), 2 ** 60); // not a safe integer: written as a float
  assert.equal(back.get("c"), 2n ** 60n);
  assert.ok(Object.is(back.get("d"), -0));
});

Deno.test("writePt names the archive after the file and writes atomically; readPt reads it", () =>
  withTempDir(async (dir) => {
    const path = join(dir, "best.v2.pt");
    await writePt(path, goldenTree());
    const bytes = await Deno.readFile(path);
    assert.equal(entryNames(bytes)[0], "best.v2/data.pkl"); // torch drops the last extension
    assertPtEqual(await readPt(path), goldenTree());
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["best.v2.pt"]);
  }));

Deno.test("writeFileAtomic / writeFileAtomicSync replace the file and leave no temp files", () =>
  withTempDir(async (dir) => {
    const path = join(dir, "metrics.json");
    await writeFileAtomic(path, "one\n");
    await writeFileAtomic(path, new TextEncoder().encode("two\n"));
    assert.equal(await Deno.readTextFile(path), "two\n");
    writeFileAtomicSync(path, "three\n");
    assert.equal(await Deno.readTextFile(path), "three\n");
    // Renaming onto a folder fails: the error surfaces and the temp file is gone.
    await Deno.mkdir(join(dir, "taken"));
    await assert.rejects(() => writeFileAtomic(join(dir, "taken"), "x"));
    assert.throws(() => writeFileAtomicSync(join(dir, "taken"), "x"));
    await assert.rejects(() => writeFileAtomic(join(dir, "missing", "f.json"), "x"));
    const names = [...Deno.readDirSync(dir)].map((e) => e.name).sort();
    assert.deepEqual(names, ["metrics.json", "taken"]);
  }));

Deno.test("Tensor and encodePt reject values that cannot be pickled", () => {
  assert.throws(() => new Tensor("float32", [2, 2], new Float32Array(3)), RangeError);
  assert.throws(() => new Tensor("float32", [2], new Float64Array(2) as never), TypeError);
  assert.throws(() => new Tensor("int64", [-1], new BigInt64Array(0)), RangeError);
  assert.throws(
    () => encodePt(new PtDict([["cfg", new PtDict([["x", undefined as never]])]])),
    /cannot pickle a value of type undefined at root\["cfg"\]\["x"\]/,
  );
  const loop = new PtTuple([]);
  loop.items.push([loop]);
  assert.throws(() => encodePt(loop), /tuple that contains itself/);
  assert.throws(() => encodePt(1, { archiveName: "a/b" }), RangeError);
  // A list that contains itself pickles as in Python, but reading one back is refused:
  // every walker of a decoded tree may then recurse safely.
  const list: PtValue[] = [1];
  list.push(list);
  assert.throws(
    () => decodePt(encodePt(list), { source: "loop.pt" }),
    /^PtFormatError: loop\.pt: pickle builds a list that contains itself/,
  );
});

// ---------------------------------------------------------------------------------------
// Bad input: always a one-line PtFormatError naming the file

/** Asserts a PtFormatError whose one-line message names `source` and matches `what`. */
function assertBad(bytes: Uint8Array, source: string, what: RegExp): void {
  let error: unknown;
  try {
    decodePt(bytes, { source });
  } catch (e) {
    error = e;
  }
  assert.ok(error instanceof PtFormatError, `${source}: expected PtFormatError, got ${error}`);
  assert.ok(error.message.startsWith(`${source}: `), error.message);
  assert.ok(!error.message.includes("\n"), `one line: ${error.message}`);
  assert.match(error.message, what);
}

/** Hand-made pickle bytes. */
const pk = {
  bytes: (...parts: (number | Uint8Array)[]): Uint8Array => {
    const out: number[] = [];
    for (const p of parts) typeof p === "number" ? out.push(p) : out.push(...p);
    return new Uint8Array(out);
  },
  str(s: string): Uint8Array {
    const utf8 = new TextEncoder().encode(s);
    const n = utf8.length;
    return pk.bytes(0x58, n & 0xff, (n >> 8) & 0xff, 0, 0, ...utf8);
  },
  global(module: string, name: string): Uint8Array {
    return pk.bytes(0x63, new TextEncoder().encode(`${module}\n${name}\n`));
  },
  int1: (n: number): Uint8Array => pk.bytes(0x4b, n),
};
const PROTO2 = pk.bytes(0x80, 2);
const MARK = 0x28;
const TUPLE = 0x74;
const TUPLE1 = 0x85;
const EMPTY_TUPLE = 0x29;
const REDUCE = 0x52;
const STOP = 0x2e;

/** A zip holding `bad/data.pkl` = `pickle` and the given storage records. */
function zipWith(pickle: Uint8Array, storages: Record<string, Uint8Array> = {}): Uint8Array {
  return writeZip([
    { name: "bad/data.pkl", data: pickle },
    ...Object.entries(storages).map(([key, data]) => ({ name: `bad/data/${key}`, data })),
    { name: "bad/version", data: new TextEncoder().encode("3\n") },
  ]);
}

/** Pickle of one float32 tensor: storage key "0" holding `numel`, view (offset, size, stride). */
function tensorPickle(numel: number, offset: number, size: number[], stride: number[]): Uint8Array {
  const tuple = (xs: number[]) => pk.bytes(MARK, ...xs.flatMap((x) => [...pk.int1(x)]), TUPLE);
  return pk.bytes(
    PROTO2,
    pk.global("torch._utils", "_rebuild_tensor_v2"),
    MARK,
    MARK,
    pk.str("storage"),
    pk.global("torch", "FloatStorage"),
    pk.str("0"),
    pk.str("cpu"),
    pk.int1(numel),
    TUPLE,
    0x51, // BINPERSID
    pk.int1(offset),
    tuple(size),
    tuple(stride),
    0x89, // NEWFALSE
    pk.global("collections", "OrderedDict"),
    EMPTY_TUPLE,
    REDUCE,
    TUPLE,
    REDUCE,
    STOP,
  );
}

Deno.test("bad input: hand-made tensor pickles work, and views are bounds-checked", () => {
  const storage = new Uint8Array(new Float32Array([0, 1, 2, 3, 4, 5]).buffer);
  const ok = decodePt(zipWith(tensorPickle(6, 1, [2, 2], [1, 2]), { "0": storage }));
  assert.deepEqual([...tensor(ok, "view").data], [1, 3, 2, 4]);
  const expanded = decodePt(zipWith(tensorPickle(6, 5, [3], [0]), { "0": storage }));
  assert.deepEqual([...tensor(expanded, "expanded").data], [5, 5, 5]);
  assertBad(
    zipWith(tensorPickle(6, 3, [2, 2], [2, 1]), { "0": storage }),
    "view.pt",
    /storage '0' holds 6 float32 values but the tensor of shape \[2, 2\] at offset 3 needs 7/,
  );
});

Deno.test("bad input: empty, not a zip, truncated, no data.pkl, missing file", async () => {
  assertBad(new Uint8Array(0), "empty.pt", /file is empty/);
  assertBad(new TextEncoder().encode("hello, this is not a checkpoint"), "text.pt", /not a zip/);
  assertBad(pk.bytes(0x80, 2, 0x7d, 0x2e), "legacy.pt", /not a zip.*legacy/);
  const good = encodePt(goldenTree());
  for (const cut of [1, 21, 22, 100, good.length >> 1, good.length - 31]) {
    assertBad(good.subarray(0, good.length - cut), `cut${cut}.pt`, /truncated zip/);
  }
  assertBad(zipWith(new Uint8Array(0)).subarray(40), "headless.pt", /./);
  const noPickle = writeZip([{ name: "x/version", data: new TextEncoder().encode("3\n") }]);
  assertBad(noPickle, "nopickle.pt", /no <name>\/data\.pkl/);
  await assert.rejects(() => readPt("/nonexistent/folder/ckpt.pt"), (e: unknown) => {
    assert.ok(e instanceof PtFormatError);
    assert.equal(e.message, "/nonexistent/folder/ckpt.pt: file not found");
    return true;
  });
});

Deno.test("bad input: disallowed globals are refused, never called", () => {
  const osSystem = pk.bytes(
    PROTO2,
    pk.global("os", "system"),
    pk.str("echo hi"),
    TUPLE1,
    REDUCE,
    STOP,
  );
  assertBad(
    zipWith(osSystem),
    "bad.pt",
    /^bad\.pt: pickle calls global 'os\.system', which is not allowed/,
  );
  const evil = pk.bytes(PROTO2, pk.global("torch.storage", "_load_from_bytes"), STOP);
  assertBad(zipWith(evil), "evil.pt", /'torch\.storage\._load_from_bytes', which is not allowed/);
  const stackGlobal = pk.bytes(0x80, 4, pk.str("builtins"), pk.str("eval"), 0x93, STOP);
  assertBad(zipWith(stackGlobal), "sg.pt", /'builtins\.eval', which is not allowed/);
  const half = pk.bytes(PROTO2, pk.global("torch", "HalfStorage"), STOP);
  assertBad(zipWith(half), "half.pt", /storage type 'torch\.HalfStorage' is not supported/);
  const callStorage = pk.bytes(
    PROTO2,
    pk.global("torch", "FloatStorage"),
    EMPTY_TUPLE,
    REDUCE,
    STOP,
  );
  assertBad(zipWith(callStorage), "call.pt", /'torch\.FloatStorage' cannot be called/);
  const bareGlobal = pk.bytes(PROTO2, pk.global("collections", "OrderedDict"), STOP);
  assertBad(zipWith(bareGlobal), "bare.pt", /bare global collections\.OrderedDict/);
});

Deno.test("bad input: storage missing, shorter than the tensor, bad CRC", () => {
  const pickle = tensorPickle(12, 0, [3, 4], [4, 1]);
  assertBad(zipWith(pickle), "nostorage.pt", /storage record 'bad\/data\/0' is missing/);
  assertBad(
    zipWith(pickle, { "0": new Uint8Array(8) }),
    "short.pt",
    /storage record 'bad\/data\/0' has 8 bytes, but the pickle declares 12 float32 values \(48 bytes\)/,
  );
  assertBad(
    zipWith(tensorPickle(2, 0, [3, 4], [4, 1]), { "0": new Uint8Array(8) }),
    "short2.pt",
    /storage '0' holds 2 float32 values but the tensor of shape \[3, 4\] at offset 0 needs 12/,
  );
  const good = encodePt(goldenTree(), { archiveName: "g" });
  const zip = new ZipReader(good, "g");
  const entry = zip.entry("g/data/0")!;
  const bad = good.slice();
  const at = zip.read(entry).byteOffset + 5;
  bad[at] ^= 0x40;
  assertBad(bad, "crc.pt", /bad CRC-32 in zip entry 'g\/data\/0'/);
});

Deno.test("bad input: bad opcode, truncated pickle, malformed structures", () => {
  assertBad(
    zipWith(pk.bytes(PROTO2, 0xff)),
    "op.pt",
    /unknown pickle opcode 0xff \(pickle byte 2\)/,
  );
  assertBad(zipWith(pk.bytes(PROTO2, 0x81)), "newobj.pt", /unsupported pickle opcode NEWOBJ/);
  assertBad(zipWith(pk.bytes(PROTO2, 0x58, 0xff, 0, 0, 0, 0x61)), "trunc.pt", /truncated pickle/);
  assertBad(zipWith(pk.bytes(PROTO2, 0x7d)), "nostop.pt", /truncated pickle \(no STOP/);
  assertBad(zipWith(pk.bytes(PROTO2, 0x61, STOP)), "underflow.pt", /stack underflow/);
  assertBad(zipWith(pk.bytes(PROTO2, 0x68, 7, STOP)), "memo.pt", /memo entry 7/);
  assertBad(zipWith(pk.bytes(PROTO2, 0x65, STOP)), "mark.pt", /MARK that was never pushed/);
  assertBad(zipWith(pk.bytes(PROTO2, 0x7d, 0x4e, 0x61, STOP)), "append.pt", /APPEND on a dict/);
  assertBad(
    zipWith(pk.bytes(PROTO2, 0x7d, EMPTY_TUPLE, 0x4e, 0x73, STOP)),
    "key.pt",
    /dict key of type tuple is not supported/,
  );
});

Deno.test("bad input: corrupted files never escape as anything but PtFormatError", () => {
  const good = encodePt(goldenTree(), { archiveName: "g" });
  const pickle = new ZipReader(good, "g").read(new ZipReader(good, "g").entry("g/data.pkl")!);
  const storages: Record<string, Uint8Array> = {};
  const zip = new ZipReader(good, "g");
  for (const e of zip.entries) {
    if (e.name.startsWith("g/data/")) storages[e.name.slice(7)] = zip.read(e);
  }
  let seed = 12345;
  const next = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0);
  const check = (bytes: Uint8Array) => {
    try {
      decodePt(bytes, { source: "fuzz.pt" });
    } catch (e) {
      if (!(e instanceof PtFormatError)) throw e;
      assert.ok(e.message.startsWith("fuzz.pt: ") && !e.message.includes("\n"), e.message);
      // The safety net in decodePt must not be what caught it: every case has its check.
      assert.doesNotMatch(e.message, /malformed checkpoint/);
    }
  };
  for (let i = 0; i < 1500; i++) {
    // Pickle mutations (with a valid CRC, so the parser itself is exercised).
    const mutated = pickle.slice();
    const flips = 1 + (next() % 3);
    for (let k = 0; k < flips; k++) mutated[next() % mutated.length] = next() & 0xff;
    check(
      zipWith(
        mutated.subarray(0, next() % 4 === 0 ? next() % mutated.length : undefined),
        storages,
      ),
    );
    // Whole-file mutations and cuts.
    const file = good.slice(0, good.length - (next() % 3 === 0 ? next() % good.length : 0));
    if (file.length > 0) file[next() % file.length] = next() & 0xff;
    check(file);
  }
});

// ---------------------------------------------------------------------------------------
// Budgets (src/io/limits.ts): every one refused with a one-line PtFormatError, and the
// largest accepted value at each limit still decodes

const BININT = (n: number) => pk.bytes(0x4a, n & 0xff, (n >> 8) & 0xff, (n >> 16) & 0xff, n >>> 24);
const LONG_BINPUT = (i: number) => pk.bytes(0x72, ...BININT(i).subarray(1));
const LONG_BINGET = (i: number) => pk.bytes(0x6a, ...BININT(i).subarray(1));

/** {@linkcode tensorPickle} of a 1-d view, with 4-byte ints. */
function wideTensorPickle(numel: number, view: { offset: number; size: number; stride: number }) {
  return pk.bytes(
    PROTO2,
    pk.global("torch._utils", "_rebuild_tensor_v2"),
    MARK,
    MARK,
    pk.str("storage"),
    pk.global("torch", "FloatStorage"),
    pk.str("0"),
    pk.str("cpu"),
    BININT(numel),
    TUPLE,
    0x51,
    BININT(view.offset),
    MARK,
    BININT(view.size),
    TUPLE,
    MARK,
    BININT(view.stride),
    TUPLE,
    0x89,
    pk.global("collections", "OrderedDict"),
    EMPTY_TUPLE,
    REDUCE,
    TUPLE,
    REDUCE,
    STOP,
  );
}

Deno.test("budgets: integers, strings, nesting depth", () => {
  // LONG4 of 256 bytes (the limit) reads, two's complement as before; 257 is refused.
  const long = (payload: number[]) =>
    zipWith(pk.bytes(PROTO2, 0x8b, ...BININT(payload.length).subarray(1), ...payload, STOP));
  const minus2to2047 = new Array(256).fill(0);
  minus2to2047[255] = 0x80;
  assert.equal(decodePt(long(minus2to2047)), -(2n ** 2047n));
  assert.equal(decodePt(long([0xff, 0x7f])), 0x7fff);
  assert.equal(decodePt(long([0x00, 0x80])), -0x8000);
  assertBad(
    long(new Array(257).fill(1)),
    "long.pt",
    /integer of 257 bytes is over the limit of 256/,
  );
  // A string's declared length is checked before its bytes are read.
  const str = (n: number) => zipWith(pk.bytes(PROTO2, 0x58, ...BININT(n).subarray(1), STOP));
  assertBad(str(1024 * 1024 + 1), "s.pt", /string of 1048577 bytes is over the limit of 1048576/);
  const longKey = pk.bytes(
    PROTO2,
    MARK,
    pk.str("storage"),
    pk.global("torch", "FloatStorage"),
    pk.str("k".repeat(65)),
    pk.str("cpu"),
    pk.int1(1),
    TUPLE,
    0x51, // BINPERSID
    STOP,
  );
  assertBad(zipWith(longKey), "key.pt", /storage key of 65 characters/);
  const mib = "é".repeat(512 * 1024); // exactly 1 MiB of UTF-8
  assert.equal(decodePt(encodePt(mib)), mib);
  // 100 nested lists read; 101 are refused.
  const nested = (depth: number) =>
    zipWith(
      pk.bytes(PROTO2, ...new Array(depth).fill(0x5d), ...new Array(depth - 1).fill(0x61), STOP),
    );
  let v = decodePt(nested(100));
  for (let d = 1; d < 100; d++) v = (v as PtValue[])[0];
  assert.deepEqual(v, []);
  assertBad(nested(101), "deep.pt", /nests lists, tuples or dicts deeper than the limit of 100/);
});

Deno.test("budgets: shared values are kept shared, counted where they appear; cycles refused", () => {
  // Levels of a list holding the level below twice: 2^levels leaves once expanded.
  const laughs = (levels: number) => {
    const parts: (number | Uint8Array)[] = [PROTO2, 0x5d, LONG_BINPUT(0), 0x30];
    for (let i = 1; i <= levels; i++) {
      parts.push(MARK, LONG_BINGET(i - 1), LONG_BINGET(i - 1), 0x6c, LONG_BINPUT(i), 0x30);
    }
    return zipWith(pk.bytes(...parts, LONG_BINGET(levels), STOP));
  };
  const small = decodePt(laughs(10)) as PtValue[];
  assert.equal(small[0], small[1], "sharing is kept");
  assertBad(laughs(16), "laughs.pt", /more than \d+ values once shared values are counted/);
  // A list in a dict in a list that holds the outer list.
  const cycle = pk.bytes(
    PROTO2,
    0x5d,
    LONG_BINPUT(0),
    0x7d,
    pk.str("back"),
    LONG_BINGET(0),
    0x73, // SETITEM: d["back"] = outer
    0x61, // APPEND: outer.append(d)
    STOP,
  );
  assertBad(zipWith(cycle), "cycle.pt", /builds a list that contains itself/);
});

Deno.test("budgets: tensor elements beyond the storage, copies, one copy per storage record", () => {
  const storage = new Uint8Array(new Float32Array(1).fill(7).buffer);
  const atSlack = decodePt(zipWith(wideTensorPickle(1, { offset: 0, size: 65_537, stride: 0 }), {
    "0": storage,
  }));
  assert.equal((atSlack as Tensor).numel, 65_537);
  assert.equal((atSlack as Tensor).data[65_536], 7);
  assertBad(
    zipWith(wideTensorPickle(1, { offset: 0, size: 65_538, stride: 0 }), { "0": storage }),
    "slack.pt",
    /tensor of shape \[65538\] has 65538 elements but its storage '0' holds 1: over the limit of 65536/,
  );
  // Copies of views count against the budget (file size + 65536 values)...
  const big = new Uint8Array(4 * 100_000);
  const views = (count: number, declared: (i: number) => number, offset: number) => {
    const parts: (number | Uint8Array)[] = [PROTO2, 0x5d, MARK];
    for (let i = 0; i < count; i++) {
      const one = wideTensorPickle(declared(i), { offset, size: declared(i) - offset, stride: 1 });
      parts.push(one.subarray(2, one.length - 1)); // without PROTO and STOP
    }
    return zipWith(pk.bytes(...parts, 0x65, STOP), { "0": big });
  };
  assertBad(views(100, () => 100_000, 1), "views.pt", /materialises more than \d+ values/);
  assert.equal((decodePt(views(3, () => 100_000, 1)) as PtValue[]).length, 3);
  // ...while whole-storage tensors share the record's one copy, whatever numel they declare
  // (their elements still count once per tensor in the tree).
  const shared = decodePt(views(4, (i) => 100_000 - i, 0)) as Tensor[];
  assert.equal(shared.length, 4);
  assert.ok(shared.every((t) => t.data.buffer === shared[0].data.buffer));
  assert.equal(shared[3].numel, 99_997);
});

Deno.test("budgets: zip entry count, entries sharing bytes", () => {
  // A ZIP64 end record claiming 70,000 entries.
  const empty = writeZip([]);
  const many = empty.slice();
  const view = new DataView(many.buffer);
  view.setBigUint64(24, 70_000n, true);
  view.setBigUint64(32, 70_000n, true);
  view.setUint16(many.length - 22 + 8, 0xffff, true);
  view.setUint16(many.length - 22 + 10, 0xffff, true);
  assertBad(many, "many.pt", /zip lists 70000 entries, over the limit of 65535/);
  // Two entries whose central records point at the same 64 KB of data.
  const data = new Uint8Array(65_536);
  const bytes = writeZip([{ name: "a/data.pkl", data }, { name: "a/data/0", data }]);
  const zip = new ZipReader(bytes, "z");
  const second = zip.entries[1];
  const overlap = bytes.slice();
  const cd = new DataView(overlap.buffer);
  // Find the second central header and point it at the first entry's local header.
  const name = new TextEncoder().encode(second.name);
  for (let p = 0; p + 46 < overlap.length; p++) {
    if (cd.getUint32(p, true) === 0x02014b50 && cd.getUint16(p + 28, true) === name.length) {
      if (
        new TextDecoder().decode(overlap.subarray(p + 46, p + 46 + name.length)) === second.name
      ) {
        cd.setUint32(p + 42, 0, true);
        cd.setUint32(p + 20, bytes.length - 100, true);
        cd.setUint32(p + 24, bytes.length - 100, true);
      }
    }
  }
  assertBad(overlap, "overlap.pt", /zip entries hold \d+ bytes in all, more than the file's/);
});
