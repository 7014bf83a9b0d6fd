/**
 * `python/delta_waypoint_policy.py` against the project's own forward pass: tiny runs
 * trained through the CLI (built-in planner, MLP planner, traffic with both, mountain_car),
 * copies of their checkpoints with an `obs_rms` key and a `delta_clip` that clips, a
 * batch of observations; the loader under torch must give the same final waypoints
 * (actions), clipped mean delta and value to 1e-6. And its errors on files that are not
 * what it expects. Needs the test venv (`deno task test` makes it): fails without it.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { ROOT, withTempDir } from "./_helpers.ts";
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
import type { ReferenceOutputs, TinyRun } from "./_policy_reference.ts";

const ROWS = 64;
const TOLERANCE = 1e-6;

// Loads each case's policy and prints its outputs as JSON (repr floats: exact).
const LOADER_CHECK = `
import json, sys
sys.path.insert(0, sys.argv[1])
import torch
from delta_waypoint_policy import load_policy
out = {}
for case in json.load(open(sys.argv[2])):
    policy = load_policy(case["checkpoint"], sft_model=case["sft_model"])
    z = torch.tensor(case["obs"], dtype=torch.float64).reshape(-1, policy.obs_dim)
    sft = case["sft_waypoints"]
    if sft is not None:
        sft = torch.tensor(sft, dtype=torch.float64).reshape(z.shape[0], -1)
    if policy.waypoints:
        final = policy.final_waypoints(z, sft_waypoints=sft)
        assert final.shape == (z.shape[0], policy.horizon, 2)
        actions = policy.final_actions(z, sft)
        assert torch.equal(actions, final.reshape(z.shape[0], -1))
    else:
        final = policy.final_actions(z)
        assert torch.equal(final, policy(z))
    one = policy.final_actions(z[0], None if sft is None else sft[0])
    # one observation without the batch dimension (a 1-row product may sum in another order)
    assert float((one - policy.final_actions(z, sft)[0]).abs().max()) <= 1e-12
    out[case["name"]] = {
        "final": final.reshape(-1).tolist(),
        "delta": policy.delta(z).reshape(-1).tolist(),
        "value": policy.value(z).tolist(),
        "delta_clip": policy.delta_clip,
        "normalised": policy.obs_norm is not None,
    }
print(json.dumps(out))
`;

interface LoaderCase {
  name: string;
  checkpoint: string;
  sft_model: string | null;
  obs: number[];
  sft_waypoints: number[] | null;
  expected: ReferenceOutputs;
  normalised: boolean;
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let worst = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    if (!(d <= worst)) worst = d; // NaN wins
  }
  return worst;
}

Deno.test("python loader", async (t) => {
  await withTempDir(async (dir) => {
    const runs = await trainTinyRuns(dir);
    await t.step("final waypoints, delta and value as the project computes them", async () => {
      await matchesProject(dir, [...runs]);
    });
    await t.step("clear errors for files that are not what it expects", async () => {
      await refusesBadFiles(dir, runs);
    });
  });
});

async function matchesProject(dir: string, runs: TinyRun[]): Promise<void> {
  const builtin = runs.find((r) => r.name === "builtin")!;
  runs.push({
    name: "builtin_checkpoint_10",
    checkpoint: join(dir, "builtin", "checkpoints", "checkpoint_10.pt"),
    sftModel: null,
  });
  runs.push({ ...builtin, name: "builtin_best", checkpoint: join(dir, "builtin", "best.pt") });
  const cases: LoaderCase[] = [];
  for (const run of runs) {
    const plain = await referencePolicy(run.checkpoint);
    const obs = sampleObservations(plain, { rows: ROWS, seed: 101 });
    // the same run with a running normaliser and a delta_clip that clips half the entries
    const edited = join(dir, `${run.name}_rms.pt`);
    const obsRms = madeUpObsRms(plain.obsDim, 7);
    await editCheckpoint(run.checkpoint, edited, { obsRms });
    const clip = biteClip(await referencePolicy(edited), obs, ROWS);
    await editCheckpoint(run.checkpoint, edited, { obsRms, deltaClip: clip });
    for (
      const [name, checkpoint] of [[run.name, run.checkpoint], [`${run.name}+rms+clip`, edited]]
    ) {
      const policy = await referencePolicy(checkpoint);
      const expected = referenceForward(policy, obs, ROWS);
      // the built-in planner is no MLP: the caller passes its plans
      const passPlans = policy.waypoints && !policy.mlpPlanner;
      cases.push({
        name,
        checkpoint,
        sft_model: run.sftModel,
        obs: Array.from(obs),
        sft_waypoints: passPlans ? Array.from(expected.base) : null,
        expected,
        normalised: policy.obsRms !== null,
      });
    }
  }
  const job = join(dir, "cases.json");
  await Deno.writeTextFile(job, JSON.stringify(cases.map(({ expected: _, ...c }) => c)));
  const got = JSON.parse(await runPython(LOADER_CHECK, [join(ROOT, "python"), job]));
  const lines: string[] = [];
  for (const c of cases) {
    const g = got[c.name];
    const diffs = {
      final: maxAbsDiff(g.final, c.expected.final),
      delta: maxAbsDiff(g.delta, c.expected.delta),
      value: maxAbsDiff(g.value, c.expected.value),
    };
    lines.push(
      `${c.name.padEnd(32)} final ${diffs.final.toExponential(1)}  delta ${
        diffs.delta.toExponential(1)
      }  value ${diffs.value.toExponential(1)}`,
    );
    assert.equal(g.normalised, c.normalised, `${c.name}: obs_rms applied`);
    for (const [what, d] of Object.entries(diffs)) {
      assert.ok(d <= TOLERANCE, `${c.name}: ${what} differs by ${d} (> ${TOLERANCE})`);
    }
  }
  console.log(`loader vs the project (max |difference|, ${ROWS} rows):\n${lines.join("\n")}`);
  // the edited clips bite: some entries sit exactly at ±delta_clip
  for (const c of cases.filter((c) => c.name.endsWith("+clip"))) {
    const clip = got[c.name].delta_clip;
    assert.ok(c.expected.delta.some((d) => Math.abs(d) === clip), `${c.name}: nothing clipped`);
  }
}

// Each bad input, the exception type and a fragment of its message.
const LOADER_ERRORS = `
import json, sys
sys.path.insert(0, sys.argv[1])
import torch
from delta_waypoint_policy import load_policy
out = []
for path, sft in json.load(open(sys.argv[2])):
    try:
        load_policy(path, sft_model=sft)
        out.append(["loaded", ""])
    except (ValueError, FileNotFoundError) as e:
        out.append([type(e).__name__, str(e)])
print(json.dumps(out))
`;

async function refusesBadFiles(dir: string, runs: TinyRun[]): Promise<void> {
  const at = (name: string) => runs.find((r) => r.name === name)!;
  const mlp = at("mlp"), traffic = at("traffic_mlp"), car = at("mountain_car");
  const garbage = join(dir, "garbage.pt");
  await Deno.writeTextFile(garbage, "not a checkpoint");
  const badRms = join(dir, "bad_rms.pt");
  const rms = madeUpObsRms(40, 1); // the driving observation has 41 features
  await editCheckpoint(mlp.checkpoint, badRms, { obsRms: rms });
  const negativeVar = join(dir, "negative_var.pt");
  const neg = madeUpObsRms(41, 1);
  neg.var[3] = -1;
  await editCheckpoint(mlp.checkpoint, negativeVar, { obsRms: neg });
  const cases: [string, string | null, string, string][] = [
    [join(dir, "missing.pt"), null, "FileNotFoundError", "no such file"],
    [dir, null, "ValueError", "not a regular file"],
    [garbage, null, "ValueError", "not a PyTorch checkpoint"],
    [mlp.sftModel!, null, "ValueError", "not a training checkpoint (no 'delta_head'"],
    [mlp.checkpoint, mlp.checkpoint, "ValueError", "not an SFT planner file"],
    // a traffic planner has H = 4, the driving policy H = 20
    [mlp.checkpoint, traffic.sftModel!, "ValueError", "expected [40, "],
    [car.checkpoint, mlp.sftModel!, "ValueError", "sft_model is for the waypoint envs"],
    [badRms, null, "ValueError", "obs_rms.mean: has shape [40], expected [41]"],
    [negativeVar, null, "ValueError", "obs_rms.var: holds a negative value"],
  ];
  const job = join(dir, "errors.json");
  await Deno.writeTextFile(job, JSON.stringify(cases.map(([p, s]) => [p, s])));
  const got = JSON.parse(await runPython(LOADER_ERRORS, [join(ROOT, "python"), job]));
  cases.forEach(([path, , kind, fragment], i) => {
    const [gotKind, message] = got[i];
    assert.equal(gotKind, kind, `${path}: ${message}`);
    assert.ok(message.includes(fragment), `${path}: '${message}' lacks '${fragment}'`);
  });
}
