/**
 * The traffic env's CLI as an unlucky user meets it: bad traffic settings, wherever
 * they come from (flags or a `--config` file), are one line on stderr and exit 2 from
 * `train`, `eval` and `scenarios` alike, before anything is written.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { main } from "../main.ts";
import { withTempDir } from "./_helpers.ts";

/** Runs the CLI in this process (`main`), with its stderr lines. */
async function cli(args: string[]): Promise<{ code: number; lines: string[] }> {
  const lines: string[] = [];
  const original = console.error;
  console.error = (...parts: unknown[]) => lines.push(parts.join(" "));
  try {
    return { code: await main(args), lines };
  } finally {
    console.error = original;
  }
}

Deno.test("a bad traffic section in --config: one line, exit 2, nothing written, in train, eval and scenarios", async () => {
  await withTempDir(async (dir) => {
    const cases: [string, Record<string, unknown>, RegExp][] = [
      ["neighbors", { neighbors: 1e9 }, /traffic\.neighbors: expected an integer in \[0, 64\]/],
      ["mode", { vehicle_mode: "teleport" }, /traffic\.vehicle_mode: expected one of idm, replay/],
      ["penalty", { collision_penalty: -1 }, /traffic\.collision_penalty: expected a finite/],
    ];
    for (const [name, section, says] of cases) {
      const config = join(dir, `${name}.json`);
      Deno.writeTextFileSync(config, JSON.stringify({ traffic: section }));
      const out = join(dir, `out_${name}`);
      const commands = [
        ["train", "--env", "traffic", "--config", config, "--out-dir", out, "--quiet"],
        ["eval", "--env", "traffic", "--config", config, "--episodes", "1"],
        ["scenarios", "--env", "traffic", "--config", config, "--count", "1", "--out-dir", out],
      ];
      for (const args of commands) {
        const r = await cli(args);
        const what = `${args[0]} ${name}: exit ${r.code}: ${r.lines.join("\n")}`;
        assert.equal(r.code, 2, what);
        assert.equal(r.lines.length, 1, what);
        assert.match(r.lines[0], /^error: invalid configuration: /, what);
        assert.match(r.lines[0], says, what);
        assert.throws(() => Deno.statSync(out), Deno.errors.NotFound, what);
      }
    }
  });
});

Deno.test("--scenarios on other JSON, paths below a file: one line naming the flag or file, exit 2", async () => {
  await withTempDir(async (dir) => {
    // a run folder's JSON (config.json, metrics.json) is not a scenario set
    const run = join(dir, "run");
    Deno.mkdirSync(run);
    Deno.writeTextFileSync(join(run, "config.json"), JSON.stringify({ out_dir: run, env: {} }));
    const file = join(dir, "file.txt");
    Deno.writeTextFileSync(file, "not a folder");
    const below = join(file, "sub");
    const cases: [string[], string][] = [
      [
        ["eval", "--env", "traffic", "--scenarios", run],
        `error: ${
          join(run, "config.json")
        }: format: missing: not a scenario file (see docs/scenario_format.md)`,
      ],
      [
        ["eval", "--env", "traffic", "--scenarios", below],
        `error: --scenarios ${below}: cannot use it: `,
      ],
      [
        ["scenarios", "--env", "traffic", "--count", "1", "--out-dir", below],
        `error: --out-dir ${below}: cannot use it: `,
      ],
      [
        ["scenarios", "--from-episodes", below, "--out-dir", join(dir, "out")],
        `error: --from-episodes ${below}: cannot use it: `,
      ],
    ];
    for (const [args, says] of cases) {
      const r = await cli(args);
      const what = `${args.join(" ")}: exit ${r.code}: ${r.lines.join("\n")}`;
      assert.equal(r.code, 2, what);
      assert.equal(r.lines.length, 1, what);
      assert.ok(r.lines[0].startsWith(says), what);
    }
    assert.throws(() => Deno.statSync(join(dir, "out")), Deno.errors.NotFound);
  });
});
