/**
 * The layout's promises: the `.pt` codec in src/io/ is a leaf, every state_dict goes
 * through the one strict loader (typed faults, default wording), the plan is composed
 * by one function, and files and functions stay short enough to read. (How folders
 * import each other: `layout_imports_test.ts`.)
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { checkStateDict, loadStateDict, ParamSet, stateDict } from "../src/nn/mod.ts";
import type { StateDictFault } from "../src/nn/mod.ts";
import { PtDict, Tensor } from "../src/io/mod.ts";
import { clippedDeltaNorm, composePlan } from "../src/sft/mod.ts";
import { ROOT } from "./_helpers.ts";
import { readSourceTree } from "./_source_tree.ts";

Deno.test("src/io imports nothing but itself, node built-ins and the error module", () => {
  const dir = join(ROOT, "src", "io");
  const allowed = /^(\.\/[a-z_]+\.ts|node:[a-z/]+|\.\.\/errors\.ts)$/;
  for (const entry of Deno.readDirSync(dir)) {
    if (!entry.name.endsWith(".ts")) continue;
    const text = Deno.readTextFileSync(join(dir, entry.name));
    for (const m of text.matchAll(/^(?:import|export)[^;]*? from "([^"]+)";/gms)) {
      assert.match(m[1], allowed, `src/io/${entry.name} imports ${m[1]}`);
    }
  }
});

Deno.test("src/math imports nothing but itself", () => {
  const dir = join(ROOT, "src", "math");
  for (const entry of Deno.readDirSync(dir)) {
    if (!entry.name.endsWith(".ts")) continue;
    const text = Deno.readTextFileSync(join(dir, entry.name));
    for (const m of text.matchAll(/^(?:import|export)[^;]*? from "([^"]+)";/gms)) {
      assert.match(m[1], /^\.\/[a-z_]+\.ts$/, `src/math/${entry.name} imports ${m[1]}`);
    }
  }
});

function smallSet(): ParamSet {
  const set = new ParamSet([
    { name: "0.weight", shape: [2, 3] },
    { name: "0.bias", shape: [2] },
  ]);
  set.data.forEach((_, i) => (set.data[i] = (i - 3) / 8)); // exact in float32
  return set;
}

Deno.test("a state_dict round-trips through the strict loader bit for bit", () => {
  const set = smallSet();
  const sd = stateDict(set);
  assert.deepEqual([...sd.keys()], ["0.weight", "0.bias"]);
  assert.deepEqual((sd.get("0.weight") as Tensor).shape, [2, 3]);
  const back = new ParamSet(set.specs.map(({ name, shape }) => ({ name, shape })));
  loadStateDict(back, sd, { where: "test" });
  assert.deepEqual(back.data, set.data);
});

Deno.test("the strict loader reports each fault by kind, and in the default wording", () => {
  const specs = smallSet().specs;
  const kindOf = (sd: PtDict): StateDictFault => {
    let seen: StateDictFault | null = null;
    assert.throws(() =>
      checkStateDict(sd, specs, {
        where: "x",
        fault: (f) => {
          seen = f;
          return new Error("fault");
        },
      })
    );
    return seen!;
  };
  const good = () => stateDict(smallSet());
  const missing = good();
  missing.delete("0.bias");
  assert.deepEqual(kindOf(missing), { kind: "missing", key: "0.bias", shape: [2] });
  const extra = good().set("1.bias", new Tensor("float32", [1], new Float32Array(1)));
  assert.deepEqual(kindOf(extra), { kind: "unexpected", key: "1.bias" });
  const nan = good();
  (nan.get("0.bias") as Tensor).data[1] = NaN;
  const f = kindOf(nan);
  assert.equal(f.kind, "non_finite");
  assert.equal(f.kind === "non_finite" && f.index, 1);
  const wrong = good().set("0.bias", new Tensor("float32", [3], new Float32Array(3)));
  assert.throws(
    () => checkStateDict(wrong, specs, { where: "final.pt: delta_head" }),
    { message: "final.pt: delta_head.0.bias: has shape [3] (float32), expected [2] (float32)" },
  );
});

Deno.test("the plan is sft + clip(delta), and the norm is that of the clipped delta", () => {
  const sft = new Float64Array([1, 2, 3, 4]);
  const delta = new Float64Array([5, -0.5, -9, 0.25]);
  const plan = new Float64Array(4);
  composePlan(plan, { sft, delta, deltaClip: 2 });
  assert.deepEqual([...plan], [3, 1.5, 1, 4.25]);
  composePlan(sft, { sft, delta, deltaClip: 2 }); // in place
  assert.deepEqual(sft, plan);
  assert.equal(clippedDeltaNorm(delta, { row: 0, actDim: 2, deltaClip: 2 }), Math.sqrt(4.25));
  assert.equal(clippedDeltaNorm(delta, { row: 1, actDim: 2, deltaClip: 2 }), Math.sqrt(4.0625));
});

// Files allowed over 400 lines: the unpickler, whose opcode switch is one piece.
const LONG_FILES_ALLOWED = new Set(["src/io/_pickle_read.ts"]);

Deno.test("no source file is over 400 lines (the unpickler's opcode switch aside)", () => {
  const walk = (dir: string): string[] =>
    [...Deno.readDirSync(join(ROOT, dir))].flatMap((e) =>
      e.isDirectory ? walk(`${dir}/${e.name}`) : e.name.endsWith(".ts") ? [`${dir}/${e.name}`] : []
    );
  for (const file of [...walk("src"), "main.ts"]) {
    if (LONG_FILES_ALLOWED.has(file)) continue;
    const lines = Deno.readTextFileSync(join(ROOT, file)).split("\n").length - 1;
    assert.ok(lines <= 400, `${file} has ${lines} lines`);
  }
});

// Functions allowed over 100 lines: the unpickler's loop, whose opcode switch is one piece.
const LONG_FUNCTIONS_ALLOWED = new Set(["io/_pickle_read.ts: run"]);

Deno.test("no function in src/ is over 100 lines (the unpickler's loop aside)", () => {
  const long = readSourceTree().flatMap((file) =>
    file.functions
      .filter((f) => f.lines > 100 && !LONG_FUNCTIONS_ALLOWED.has(`${file.path}: ${f.name}`))
      .map((f) => `src/${file.path}:${f.line} ${f.name} has a body of ${f.lines} lines`)
  );
  assert.deepEqual(long, []);
});
