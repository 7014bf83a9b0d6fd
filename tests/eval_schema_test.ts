/**
 * `eval --output` in the research repo's evaluation schema
 * (`src/run/eval_metrics.schema.json`, transcribed from
 * docs/formats/eval_metrics.md): every document the CLI writes validates, for the
 * expert, the SFT planner (built-in and from a file) and a trained checkpoint; and the
 * validator rejects the shapes `eval` wrote before (a string policy, a boolean off-route).
 */

import assert from "node:assert/strict";
import { join, resolve } from "node:path";
import {
  readJson,
  ROOT,
  runCli,
  SMOKE_ENV_FLAGS,
  SMOKE_FLAGS,
  TINY_SFT_FLAGS,
  withTempDir,
} from "./_helpers.ts";
import { type JsonSchema, validate } from "./_json_schema.ts";

const SCHEMA = readJson(join(ROOT, "src/run/eval_metrics.schema.json")) as Record<string, unknown>;

interface Scenario {
  offroad: number;
  final_dist: number;
  collisions: number;
  red_light: number;
  comfort: { max_accel: number; max_jerk: number };
  raw: { seed: number; truncated: boolean; mean_delta_norm: number };
}
interface EvalDoc {
  policy: { name: string; checkpoint?: string; sft_model?: string };
  scenarios: Scenario[];
  summary: { offroad_rate: number; final_dist_mean: number; num_episodes: number };
}

function assertValid(doc: unknown, what: string): void {
  assert.deepEqual(validate(SCHEMA, doc), [], `${what} fails the evaluation schema`);
}

const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;

Deno.test("every eval --output document validates: expert, sft (built-in and file), a checkpoint", () =>
  withTempDir(async (dir) => {
    const model = join(dir, "bc", "model.pt");
    const sft = await runCli(["sft", "--out-dir", join(dir, "bc"), ...TINY_SFT_FLAGS, "--quiet"]);
    assert.equal(sft.code, 0, sft.stderr);
    const run = join(dir, "run");
    const train = await runCli(["train", "--out-dir", run, ...SMOKE_FLAGS, "--sft-model", model]);
    assert.equal(train.code, 0, train.stderr);
    const final = join(run, "final.pt");

    const many = join(dir, "many.json");
    const a = await runCli([
      "eval",
      ...["--policy", "expert", "--policy", "sft", "--policy", final],
      ...["--episodes", "6", "--output", many],
    ]);
    assert.equal(a.code, 0, a.stderr);
    const one = join(dir, "one.json");
    const b = await runCli([
      "eval",
      ...SMOKE_ENV_FLAGS,
      ...["--policy", "sft", "--sft-model", model, "--episodes", "6", "--output", one],
    ]);
    assert.equal(b.code, 0, b.stderr);

    const docs = readJson(many) as EvalDoc[];
    const single = readJson(one) as EvalDoc;
    assert.ok(!Array.isArray(single), "one policy gives one object, not a list");
    for (const doc of [...docs, single]) assertValid(doc, doc.policy.name);

    assert.deepEqual(docs.map((d) => d.policy), [
      { name: "expert" },
      { name: "sft" },
      { name: final, checkpoint: final, sft_model: model },
    ]);
    assert.deepEqual(single.policy, { name: "sft", checkpoint: model });
    for (const doc of [...docs, single]) {
      assert.equal(doc.scenarios.length, 6);
      for (const s of doc.scenarios) {
        assert.ok(s.offroad === 0 || s.offroad === 1, `offroad ${s.offroad}`);
        assert.equal(s.collisions, 0);
        assert.equal(s.red_light, 0);
        assert.ok(s.final_dist >= 0 && s.comfort.max_accel >= 0 && s.comfort.max_jerk >= 0);
        assert.equal(typeof s.raw.truncated, "boolean");
      }
      // the summary averages the records under the same names
      assert.equal(doc.summary.offroad_rate, mean(doc.scenarios.map((s) => s.offroad)));
      assert.equal(doc.summary.final_dist_mean, mean(doc.scenarios.map((s) => s.final_dist)));
    }
    // the built-in planner leaves the route on some of these seeds: offroad is not always 0
    assert.ok(docs[1].scenarios.some((s) => s.offroad === 1), "no off-route episode to check");
  }));

Deno.test("the validator rejects the old eval shapes and other breaches of the schema", () => {
  const good = {
    run_id: "run_001/final",
    domain: "rl",
    policy: { name: "sft" },
    scenarios: [{
      scenario_id: "seed:1",
      success: true,
      route_completion: 1,
      offroad: 0,
      steps: 12,
      comfort: { max_accel: 1, max_jerk: 2 },
    }],
    summary: {},
  };
  assertValid(good, "a valid document");
  const broken = (change: (d: typeof good & Record<string, unknown>) => void) => {
    const d = structuredClone(good) as typeof good & Record<string, unknown>;
    change(d);
    return validate(SCHEMA, d);
  };
  const scenario = (d: typeof good) => d.scenarios[0] as Record<string, unknown>;
  const cases: [string, (d: typeof good & Record<string, unknown>) => void, RegExp][] = [
    [
      "policy as a string (old)",
      (d) => (d as Record<string, unknown>).policy = "sft",
      /\$\.policy:/,
    ],
    ["offroad as a boolean (old)", (d) => scenario(d).offroad = false, /scenarios\[0\]\.offroad/],
    ["offroad not an integer", (d) => scenario(d).offroad = 0.5, /offroad: 0\.5 is not of type/],
    ["negative offroad", (d) => scenario(d).offroad = -1, /offroad: -1 is below/],
    ["route_completion above 1", (d) => scenario(d).route_completion = 1.5, /above the maximum/],
    ["steps not an integer", (d) => scenario(d).steps = 1.5, /steps: 1\.5/],
    ["comfort as a number", (d) => scenario(d).comfort = 3, /comfort: 3 is not of type object/],
    ["success missing", (d) => delete scenario(d).success, /lacks required success/],
    ["unknown domain", (d) => d.domain = "games", /domain: "games" is not one of/],
    [
      "run_id missing",
      (d) => delete (d as Record<string, unknown>).run_id,
      /lacks required run_id/,
    ],
    ["scenarios not a list", (d) => (d as Record<string, unknown>).scenarios = {}, /scenarios:/],
  ];
  for (const [what, change, message] of cases) {
    const errors = broken(change);
    assert.equal(errors.length, 1, `${what}: ${errors.join("; ")}`);
    assert.match(errors[0], message, what);
  }
  // extra fields are allowed everywhere
  assert.deepEqual(
    broken((d) => {
      d.extra = 1;
      scenario(d).raw = { seed: 1 };
      scenario(d).our_metric = "x";
    }),
    [],
  );
  // a keyword the validator does not implement is an error, not a silent pass
  assert.throws(() => validate({ pattern: "^a" } as JsonSchema, "b"), /keyword pattern/);
});

Deno.test("the schema file names every field of docs/formats/eval_metrics.md", () => {
  const md = Deno.readTextFileSync(resolve(ROOT, "docs/formats/eval_metrics.md"));
  const fields = new Set([...md.matchAll(/"(\w+)":/g)].map((m) => m[1]));
  const named = new Set<string>();
  const walk = (s: unknown) => {
    if (typeof s !== "object" || s === null) return;
    const props = (s as Record<string, unknown>).properties;
    if (props && typeof props === "object") {
      for (const [k, v] of Object.entries(props)) {
        named.add(k);
        walk(v);
      }
    }
    walk((s as Record<string, unknown>).items);
  };
  walk(SCHEMA);
  assert.ok(fields.size >= 20, `only ${fields.size} fields found in the .md`);
  assert.deepEqual([...fields].filter((f) => !named.has(f)), []);
  assert.deepEqual(SCHEMA.required, ["run_id", "domain", "scenarios"]);
});
