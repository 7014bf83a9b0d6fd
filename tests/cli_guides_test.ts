/**
 * The CLI guides, spawned as a user runs it: a flag without its value says "missing
 * value", an unknown flag gets the nearest known one, flags that need `--seeds` say so;
 * `--help` shows each env's defaults, a placeholder on every flag that takes a value
 * and the env's own flags under its heading; `eval --policy RUN_DIR` takes a run
 * folder; `--config` takes YAML, and a bad YAML file is one line, exit 2, nothing written.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { readJson, runCli, SMOKE_FLAGS, withFlags, withTempDir } from "./_helpers.ts";
import { MAX_CONFIG_FILE_BYTES } from "../src/io/mod.ts";

Deno.test("flag errors: missing value, did you mean, needs --seeds; one line, nothing written", () =>
  withTempDir(async (dir) => {
    const cases: [string[], string][] = [
      [["train", "--episodes", "--out-dir", "x"], "train: --episodes: missing value"],
      [["train", "--lr"], "train: --lr: missing value"],
      [["eval", "--policy"], "eval: --policy: missing value"],
      [["train", "--seeds", "1-2", "--jobs", "--quiet"], "train: --jobs: missing value"],
      [
        ["train", "--epsiodes", "5"],
        "train: unknown option '--epsiodes'; did you mean --episodes?",
      ],
      [["eval", "--sedd", "5"], "eval: unknown option '--sedd'; did you mean --seed?"],
      [
        ["train", "--heldout", "5"],
        "train: unknown option '--heldout'; did you mean --heldout-episodes?",
      ],
      [["train", "--zzzzzz"], "train: unknown option '--zzzzzz'"],
      [["train", "--emit", "slurm"], "train: --emit needs --seeds"],
      [["train", "--jobs", "2"], "train: --jobs needs --seeds"],
      [["train", "--task-index=0"], "train: --task-index needs --seeds"],
      // the job files' flags and --keep-checkpoints (issue 18) are guided too
      [["train", "--time", "1:00:00"], "train: --time needs --seeds"],
      [["train", "--seeds", "1-2", "--emit", "slurm", "--mem"], "train: --mem: missing value"],
      [
        ["train", "--seeds", "1-2", "--emit", "slurm", "--partiton", "gpu"],
        "train: unknown option '--partiton'; did you mean --partition?",
      ],
      [
        ["train", "--keep-checkpoint", "2"],
        "train: unknown option '--keep-checkpoint'; did you mean --keep-checkpoints?",
      ],
    ];
    for (const [args, message] of cases) {
      const r = await runCli(args, { cwd: dir });
      assert.equal(r.code, 2, args.join(" "));
      assert.equal(r.stderr, `error: ${message} (see --help)\n`, args.join(" "));
    }
    assert.deepEqual([...Deno.readDirSync(dir)], [], "nothing written");
  }));

// The flags of a --help text that take no value.
const SWITCHES = new Set([
  "overwrite",
  "quiet",
  "eval-worker",
  "help",
  "stochastic",
  "json",
  "best",
]);

// Every flag line of `help`: a placeholder after each flag that takes a value, 100 columns.
function checkPlaceholders(help: string): void {
  for (const line of help.split("\n")) {
    assert.ok(line.length <= 100, `over 100 columns: ${line}`);
    const m = /^ {2}(?:-h, )?--([a-z-]+)( [^ ]+)?/.exec(line);
    if (!m) continue;
    assert.equal(m[2] === undefined, SWITCHES.has(m[1]), `placeholder of --${m[1]}: ${line}`);
  }
}

Deno.test("--help: the env's defaults, a placeholder on every flag taking a value, its flags under its heading", async () => {
  const traffic = await runCli(["train", "--env", "traffic", "--help"]);
  assert.equal(traffic.code, 0);
  const text = traffic.stdout;
  for (
    const want of [
      /--episodes N +training episodes \(default 4000\)/,
      /--lr X .*\(default 0\.0003\)/,
    ]
  ) {
    assert.match(text, want);
  }
  assert.match(text, /--horizon-steps N +waypoints per plan \(H\) \(default 4\)/);
  const [seeds, own] = text.split("Traffic: the driving part");
  assert.doesNotMatch(seeds.split("Many seeds")[1], /--scenarios|--neighbors|--vehicle-mode/);
  const vehicles = own.split("Traffic: the other vehicles (--env traffic):")[1];
  for (const flag of ["--neighbors N", "--vehicle-mode MODE", "--scenarios DIR"]) {
    assert.ok(vehicles.includes(`  ${flag} `), flag);
  }
  for (
    const args of [["train"], ["train", "--env", "traffic"], ["eval"], ["eval", "--env", "traffic"]]
  ) {
    const r = await runCli([...args, "--help"]);
    assert.equal(r.code, 0);
    checkPlaceholders(r.stdout);
  }
});

Deno.test("eval --policy RUN_DIR takes its final.pt, or best.pt with --best", () =>
  withTempDir(async (dir) => {
    const run = join(dir, "run");
    const flags = withFlags(SMOKE_FLAGS, { "--episodes": "10", "--save-interval": "10" });
    const t = await runCli(["train", "--out-dir", run, ...flags]);
    assert.equal(t.code, 0, t.stderr);
    const evalJson = async (...args: string[]) => {
      const r = await runCli(["eval", ...args, "--episodes", "3", "--json"]);
      assert.equal(r.code, 0, r.stderr);
      return JSON.parse(r.stdout) as { policy: { name: string }; summary: unknown };
    };
    for (const [file, extra] of [["final.pt", []], ["best.pt", ["--best"]]] as const) {
      const byFolder = await evalJson("--policy", run, ...extra);
      const byFile = await evalJson("--policy", join(run, file));
      assert.equal(byFolder.policy.name, join(run, file));
      assert.deepEqual(byFolder.summary, byFile.summary);
    }
    // a stopped run's folder names its last checkpoint; another folder says what it lacks
    const stopped = join(dir, "stopped");
    await new Deno.Command("cp", { args: ["-r", run, stopped] }).output();
    await Deno.remove(join(stopped, "final.pt"));
    const multi = join(dir, "multi");
    await Deno.mkdir(join(multi, "seed_1"), { recursive: true });
    await Deno.copyFile(join(run, "final.pt"), join(multi, "seed_1", "final.pt"));
    const refused: [string[], string][] = [
      [
        ["--policy", stopped],
        `--policy ${stopped}: the folder holds no final.pt (its run stopped at episode 10: --policy ${stopped}/checkpoints/checkpoint_10.pt)`,
      ],
      [
        ["--policy", dir],
        `--policy ${dir}: the folder holds no final.pt (a run folder holds final.pt and best.pt)`,
      ],
      [
        ["--policy", multi, "--best"],
        `--best: takes run folders; the multi-seed folder ${multi} is evaluated on each seed's final.pt`,
      ],
    ];
    for (const [args, message] of refused) {
      const r = await runCli(["eval", ...args, "--episodes", "2"]);
      assert.equal(r.code, 2, r.stderr);
      assert.equal(r.stderr, `error: ${message}\n`);
    }
  }));

const TINY = ["--heldout-episodes", "2", "--eval-episodes", "2", "--quiet"];

Deno.test("--config takes YAML: the same run as its JSON", () =>
  withTempDir(async (dir) => {
    const json = join(dir, "c.json"), yaml = join(dir, "c.yml");
    Deno.writeTextFileSync(
      json,
      JSON.stringify({
        env: { horizon_steps: 5 },
        ppo: { lr: 0.001, episodes: 5, eval_interval: 5 },
      }),
    );
    Deno.writeTextFileSync(
      yaml,
      "# a comment\nenv: {horizon_steps: 5}\nppo:\n  lr: 1.0e-3\n  episodes: &n 5\n  eval_interval: *n\n",
    );
    for (const [config, out] of [[json, "a"], [yaml, "b"]]) {
      const r = await runCli(["train", "--config", config, "--out-dir", join(dir, out), ...TINY]);
      assert.equal(r.code, 0, r.stderr);
    }
    const config = (out: string) => {
      const c = readJson(join(dir, out, "config.json")) as Record<string, unknown>;
      return { ...c, out_dir: null };
    };
    assert.deepEqual(config("b"), config("a"));
  }));

Deno.test("a bad YAML config: one line naming the file (and the line), exit 2, nothing written", () =>
  withTempDir(async (dir) => {
    const laughs = ["a: &a [x, x]"];
    for (let i = 1; i < 12; i++) {
      laughs.push(
        `l${i}: &l${i} [*${i === 1 ? "a" : `l${i - 1}`}, *${i === 1 ? "a" : `l${i - 1}`}]`,
      );
    }
    const cases: [string | Uint8Array, RegExp][] = [
      ["ppo:\n  lr: 1\n   x: [\n", /: not valid YAML at line 2, column 7 \(.+\)$/],
      [
        "ppo:\n  lr: 1\n  lr: 2\n",
        /: not valid YAML at line 3, column 3 \(Map keys must be unique\)$/,
      ],
      [laughs.join("\n") + "\n", /: its aliases expand past the limit of 100$/],
      ["a: &a [*a]\n", /: nests deeper than the limit of 64$/],
      [
        Array.from({ length: 80 }, (_, i) => `${" ".repeat(i)}k${i}:`).join("\n") + " 1\n",
        /: nests deeper than the limit of 64$/,
      ],
      ["[".repeat(300_000), /: not valid YAML at line 1, column \d+ \(.+\)$/],
      [`[${"0,".repeat(110_000)}0]`, /: holds more than 100000 values \(aliases expanded\)$/],
      ["ppo: !foo 1\n", /: not valid YAML at line 1, column 6 \(Unresolved tag: !foo\)$/],
      [
        "ppo: {}\n---\nenv: {}\n",
        /: not valid YAML at line 2, column 1 \(a config file is one document\)$/,
      ],
      ["? [a]\n: 1\n", /: a mapping key is not a scalar$/],
      ["__proto__: {lr: 1}\n", /: unknown section '__proto__' \(expected env, ppo\)$/],
      [
        "ppo: {lr: .nan}\n",
        /^error: invalid configuration: ppo\.lr: expected a number in \(0, 1\], got NaN$/,
      ],
      [new Uint8Array([0x70, 0xff, 0xfe]), /: not UTF-8 text$/],
      [`a: "${"x".repeat(MAX_CONFIG_FILE_BYTES)}"\n`, /: .*limit.*$/],
    ];
    for (const [i, [content, message]] of cases.entries()) {
      const path = join(dir, `bad${i}.yaml`);
      if (typeof content === "string") Deno.writeTextFileSync(path, content);
      else Deno.writeFileSync(path, content);
      const out = join(dir, `out${i}`);
      const r = await runCli(["train", "--config", path, "--out-dir", out, ...TINY]);
      assert.equal(r.code, 2, `case ${i}: ${r.stderr}`);
      const lines = r.stderr.trimEnd().split("\n");
      assert.equal(lines.length, 1, `case ${i}: ${r.stderr}`);
      if (!message.source.startsWith("^")) {
        assert.ok(lines[0].startsWith(`error: --config ${path}`), lines[0]);
      }
      assert.match(lines[0], message, `case ${i}`);
      assert.throws(() => Deno.statSync(out), `case ${i}: nothing written`);
    }
  }));
