/**
 * `export --policy PATH.pt --onnx FILE`: models exported from tiny runs trained through
 * the CLI (built-in planner, MLP planner, delta-only, traffic with both planners,
 * mountain_car; each also with an `obs_rms` key and a `delta_clip` that bites; float32
 * and float64) pass `onnx.checker.check_model(full_check=True)`, and onnxruntime gives
 * the project's own forward pass to 1e-5 on a batch of observations. Bad input ends
 * with one line, exit code 2 and nothing written. Needs the test venv (`deno task test`
 * makes it): fails without it.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { readPt, writePt } from "../src/io/mod.ts";
import type { PtDict } from "../src/io/mod.ts";
import { runCli, withTempDir } from "./_helpers.ts";
import { runPython } from "./_python.ts";
import {
  biteClip,
  editCheckpoint,
  madeUpObsRms,
  referenceForward,
  referencePolicy,
  sampleObservations,
  trainTinyRuns,
} from "./_policy_reference.ts";
import type { TinyRun } from "./_policy_reference.ts";

const ROWS = 64;
// float64 models: |difference| ≤ 1e-5; float32 ones: ≤ 1e-5 · max(1, |value|) (a float32
// waypoint 80 m ahead is only held to 7.6e-6 m; its sums lose a little more)
const TOLERANCE = 1e-5;

// Checks each model and runs it; prints its output and its inputs' and outputs' names.
const ORT_CHECK = `
import json, sys
import numpy as np, onnx, onnxruntime as ort
out = {}
for case in json.load(open(sys.argv[1])):
    model = onnx.load(case["onnx"])
    onnx.checker.check_model(model, full_check=True)
    session = ort.InferenceSession(case["onnx"], providers=["CPUExecutionProvider"])
    dtype = np.float32 if case["dtype"] == "float32" else np.float64
    feeds = {"z": np.array(case["obs"], dtype=dtype).reshape(case["rows"], -1)}
    if case["sft_waypoints"] is not None:
        shape = session.get_inputs()[1].shape[1:]
        feeds["sft_waypoints"] = np.array(case["sft_waypoints"], dtype=dtype).reshape(case["rows"], *shape)
    (result,) = session.run(None, feeds)
    assert result.dtype == dtype, result.dtype
    out[case["name"]] = {
        "inputs": [i.name for i in session.get_inputs()],
        "outputs": [o.name for o in session.get_outputs()],
        "shape": list(result.shape),
        "values": result.reshape(-1).astype(np.float64).tolist(),
        "docs": all(v.doc_string for v in list(model.graph.input) + list(model.graph.output)),
    }
print(json.dumps(out))
`;

interface ExportCase {
  name: string;
  onnx: string;
  dtype: "float32" | "float64";
  rows: number;
  obs: number[];
  sft_waypoints: number[] | null;
  expected: Float64Array;
  inputs: string[];
  output: string;
  shape: number[];
}

// Max |a - b|, and max |a - b| / max(1, |b|).
function maxDiffs(a: ArrayLike<number>, b: ArrayLike<number>): { abs: number; scaled: number } {
  assert.equal(a.length, b.length);
  let abs = 0, scaled = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    if (!(d <= abs)) abs = d; // NaN wins
    const s = d / Math.max(1, Math.abs(b[i]));
    if (!(s <= scaled)) scaled = s;
  }
  return { abs, scaled };
}

async function exportCli(args: string[]): Promise<void> {
  const out = await runCli(["export", ...args]);
  assert.equal(out.code, 0, `export ${args.join(" ")}: ${out.stderr}`);
}

Deno.test("export", async (t) => {
  await withTempDir(async (dir) => {
    const runs = await trainTinyRuns(dir);
    await t.step("onnxruntime runs the project's forward pass; the checker accepts", async () => {
      await matchesProject(dir, runs);
    });
    await t.step("bad input: one line, exit 2, nothing written", async () => {
      await refusesBadInput(dir, runs);
    });
  });
});

async function matchesProject(dir: string, runs: TinyRun[]): Promise<void> {
  const cases: ExportCase[] = [];
  for (const run of runs) {
    const plain = await referencePolicy(run.checkpoint);
    const obs = sampleObservations(plain, { rows: ROWS, seed: 202 });
    const edited = join(dir, `${run.name}_rms.pt`);
    const obsRms = madeUpObsRms(plain.obsDim, 9);
    await editCheckpoint(run.checkpoint, edited, { obsRms });
    const clip = biteClip(await referencePolicy(edited), obs, ROWS);
    await editCheckpoint(run.checkpoint, edited, { obsRms, deltaClip: clip });
    for (const [label, checkpoint] of [["", run.checkpoint], ["+rms+clip", edited]]) {
      const policy = await referencePolicy(checkpoint);
      const expected = referenceForward(policy, obs, ROWS);
      const shape = policy.waypoints ? [ROWS, policy.actionDim / 2, 2] : [ROWS, policy.actionDim];
      const variants: [string, string[], "float32" | "float64"][] = [
        ["", [], "float64"],
        [" delta-only", ["--delta-only"], "float64"],
        [" float32", ["--dtype", "float32"], "float32"],
        [" delta-only float32", ["--delta-only", "--dtype", "float32"], "float32"],
      ];
      for (const [variant, flags, dtype] of variants) {
        const name = `${run.name}${label}${variant}`;
        const onnx = join(dir, `${name.replaceAll(/[ +]/g, "_")}.onnx`);
        await exportCli(["--policy", checkpoint, "--onnx", onnx, ...flags]);
        const deltaOnly = flags.includes("--delta-only");
        const planInput = !deltaOnly && policy.waypoints && !policy.mlpPlanner;
        cases.push({
          name,
          onnx,
          dtype,
          rows: ROWS,
          obs: Array.from(obs),
          sft_waypoints: planInput ? Array.from(expected.base) : null,
          expected: deltaOnly ? expected.delta : expected.final,
          inputs: planInput ? ["z", "sft_waypoints"] : ["z"],
          output: deltaOnly ? "delta" : policy.waypoints ? "final_waypoints" : "final_actions",
          shape,
        });
      }
    }
  }
  const job = join(dir, "onnx_cases.json");
  await Deno.writeTextFile(job, JSON.stringify(cases.map(({ expected: _, ...c }) => c)));
  const got = JSON.parse(await runPython(ORT_CHECK, [job]));
  const lines: string[] = [];
  for (const c of cases) {
    const g = got[c.name];
    assert.deepEqual(g.inputs, c.inputs, `${c.name}: inputs`);
    assert.deepEqual(g.outputs, [c.output], `${c.name}: outputs`);
    assert.deepEqual(g.shape, c.shape, `${c.name}: output shape`);
    assert.ok(g.docs, `${c.name}: every input and output has a doc string`);
    const diff = maxDiffs(g.values, c.expected);
    const measured = c.dtype === "float64" ? diff.abs : diff.scaled;
    lines.push(
      `${c.name.padEnd(42)} ${c.output.padEnd(16)} ${diff.abs.toExponential(1)}  (scaled ${
        diff.scaled.toExponential(1)
      })`,
    );
    assert.ok(measured <= TOLERANCE, `${c.name}: differs by ${measured} (> ${TOLERANCE})`);
  }
  console.log(`onnxruntime vs the project (max |difference|, ${ROWS} rows):\n${lines.join("\n")}`);
}

async function refusesBadInput(dir: string, runs: TinyRun[]): Promise<void> {
  const at = (name: string) => runs.find((r) => r.name === name)!;
  const mlp = at("mlp"), car = at("mountain_car");
  const out = join(dir, "bad");
  await Deno.mkdir(out);
  const garbage = join(dir, "garbage.pt");
  await Deno.writeTextFile(garbage, "not a checkpoint");
  const negativeClip = join(dir, "negative_clip.pt");
  await editCheckpoint(mlp.checkpoint, negativeClip, { deltaClip: -5 });
  const badRms = join(dir, "bad_rms.pt");
  await editCheckpoint(mlp.checkpoint, badRms, { obsRms: madeUpObsRms(40, 1) });
  const lostPlanner = join(dir, "lost_planner.pt");
  const root = await readPt(mlp.checkpoint) as PtDict;
  root.set("sft_model", join(dir, "moved_away", "model.pt"));
  await writePt(lostPlanner, root);
  const policyCopy = join(out, "policy.pt");
  await Deno.copyFile(mlp.checkpoint, policyCopy);
  const existing = join(out, "existing.onnx");
  await Deno.writeTextFile(existing, "keep me");

  const target = join(out, "policy.onnx");
  const cases: [string[], string][] = [
    [["--policy", join(dir, "missing.pt"), "--onnx", target], "missing.pt"],
    [["--policy", garbage, "--onnx", target], "garbage.pt"],
    [["--policy", mlp.sftModel!, "--onnx", target], "not a training checkpoint"],
    [["--policy", negativeClip, "--onnx", target], "cfg.delta_clip"],
    [["--policy", badRms, "--onnx", target], "obs_rms.mean: has shape [40], expected [41]"],
    [["--policy", lostPlanner, "--onnx", target], "pass --sft-model"],
    [["--policy", mlp.checkpoint, "--onnx", out], "is a folder"],
    [["--policy", mlp.checkpoint, "--onnx", "/dev/null", "--overwrite"], "not a regular file"],
    [["--policy", mlp.checkpoint, "--onnx", existing], "exists; pass --overwrite"],
    [["--policy", policyCopy, "--onnx", policyCopy, "--overwrite"], "the export reads"],
    [
      ["--policy", mlp.checkpoint, "--onnx", join(out, "no", "such", "policy.onnx")],
      "does not exist",
    ],
    [
      ["--policy", mlp.checkpoint, "--onnx", target, "--delta-only", "--sft-model", mlp.sftModel!],
      "--delta-only",
    ],
    [["--policy", car.checkpoint, "--onnx", target, "--sft-model", mlp.sftModel!], "--sft-model"],
    [["--policy", mlp.checkpoint, "--onnx", target, "--dtype", "float16"], "--dtype"],
    [["--policy", mlp.checkpoint], "--onnx FILE is required"],
    [["--onnx", target], "--policy PATH.pt is required"],
    [["--policy", mlp.checkpoint, "--onnx", target, "--opset", "17"], "--opset"],
  ];
  for (const [args, fragment] of cases) {
    const result = await runCli(["export", ...args]);
    const what = `export ${args.join(" ")}`;
    assert.equal(result.code, 2, `${what}: exit ${result.code}: ${result.stderr}`);
    const lines = result.stderr.trim().split("\n");
    assert.equal(lines.length, 1, `${what}: stderr is ${lines.length} lines: ${result.stderr}`);
    assert.match(lines[0], /^error: /, what);
    assert.ok(lines[0].includes(fragment), `${what}: '${lines[0]}' lacks '${fragment}'`);
    // nothing written: only the files that were there before, unchanged
    assert.deepEqual(names(out), ["existing.onnx", "policy.pt"], what);
    assert.equal(await Deno.readTextFile(existing), "keep me", what);
    assert.deepEqual(await Deno.readFile(policyCopy), await Deno.readFile(mlp.checkpoint), what);
  }
  // --overwrite replaces a regular file
  await exportCli(["--policy", mlp.checkpoint, "--onnx", existing, "--overwrite"]);
  assert.ok((await Deno.readFile(existing)).length > 1000);
  assert.deepEqual(names(out), ["existing.onnx", "policy.pt"]);
}

function names(dir: string): string[] {
  return [...Deno.readDirSync(dir)].map((e) => e.name).sort();
}
