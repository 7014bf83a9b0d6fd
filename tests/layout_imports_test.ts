/**
 * How the files of src/ import each other, read from the source: no circle of imports
 * between files; another folder only through its `mod.ts`; and only downwards,
 * cli -> sweep -> run -> ppo -> sft -> env / nn -> math, with io and report beside and
 * the top-level modules (errors.ts, config_table.ts, event_loop.ts) at the bottom.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { ROOT } from "./_helpers.ts";
import { readSourceTree } from "./_source_tree.ts";
import type { SourceFile } from "./_source_tree.ts";

// What each folder of src/ may import besides itself and the top-level modules.
const MAY_IMPORT: Record<string, string[]> = {
  math: [],
  io: [],
  report: [],
  nn: ["math", "io"],
  env: ["math", "nn"],
  sft: ["env", "nn", "math", "io"],
  ppo: ["sft", "env", "nn", "math", "io"],
  run: ["ppo", "sft", "env", "nn", "math", "io"],
  sweep: ["run", "ppo", "sft", "env", "nn", "math", "io", "report"],
  cli: ["sweep", "run", "ppo", "sft", "env", "nn", "math", "io", "report"],
};

// The modules at the bottom: any file may import them; they import no folder.
const TOP_LEVEL = ["errors.ts", "config_table.ts", "event_loop.ts"];

// Circles of imports that may stay for now, each as its files in sorted order.
const KNOWN_CYCLES: string[][] = [];

const tree = readSourceTree();

// The imports of `file` that are files of src/ (not node: or npm: modules).
function fileImports(file: SourceFile): string[] {
  return file.imports.filter((spec) => !/^(node|npm|jsr):/.test(spec));
}

Deno.test("src/ holds the folders of the layout and the top-level modules, nothing else", () => {
  const entries = [...Deno.readDirSync(join(ROOT, "src"))];
  const folders = entries.filter((e) => e.isDirectory).map((e) => e.name);
  assert.deepEqual(folders.toSorted(), Object.keys(MAY_IMPORT).toSorted());
  const files = entries.filter((e) => e.isFile && e.name.endsWith(".ts")).map((e) => e.name);
  assert.deepEqual(files.toSorted(), TOP_LEVEL.toSorted());
});

Deno.test("folders import each other only downwards, and only through their mod.ts", () => {
  for (const file of tree) {
    const folder = file.path.includes("/") ? file.path.split("/")[0] : null;
    for (const target of fileImports(file)) {
      const where = `src/${file.path} imports src/${target}`;
      if (TOP_LEVEL.includes(target)) continue;
      assert.ok(folder !== null, `${where}: a top-level module imports no folder`);
      if (target.startsWith(`${folder}/`)) continue; // its own folder, any depth
      const other = target.match(/^([a-z_]+)\/mod\.ts$/);
      assert.ok(other, `${where}: another folder only through its mod.ts`);
      assert.ok(MAY_IMPORT[folder].includes(other[1]), `${where}: an import that points up`);
    }
  }
});

Deno.test("no two files of src/ import each other, directly or around a circle", () => {
  const graph = new Map(tree.map((f) => [f.path, fileImports(f)]));
  const cycles = stronglyConnected(graph)
    .filter((c) => c.length > 1 || graph.get(c[0])!.includes(c[0]))
    .map((c) => c.toSorted());
  const unknown = cycles.filter((c) => !KNOWN_CYCLES.some((k) => k.join() === c.join()));
  assert.deepEqual(unknown, [], "files that import each other (directly or in a circle)");
});

// The strongly connected components of `graph` (Tarjan): a component of more than one
// file is a circle of imports.
function stronglyConnected(graph: Map<string, string[]>): string[][] {
  const index = new Map<string, number>(), low = new Map<string, number>();
  const stack: string[] = [], onStack = new Set<string>(), components: string[][] = [];
  const visit = (v: string) => {
    index.set(v, index.size);
    low.set(v, index.get(v)!);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!graph.has(w)) continue;
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v)!, index.get(w)!));
      }
    }
    if (low.get(v) !== index.get(v)) return;
    const component: string[] = [];
    let w: string;
    do {
      w = stack.pop()!;
      onStack.delete(w);
      component.push(w);
    } while (w !== v);
    components.push(component);
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return components;
}
