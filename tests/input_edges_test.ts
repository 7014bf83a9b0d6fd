/**
 * Small inputs at the edges (issue 18): config sections and keys named after
 * Object.prototype members are unknown (exit 2, not a TypeError), numeric flags are
 * decimal (`--episodes 0x10` is refused), and a file name's control characters are
 * escaped in the error line, which stays one line.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { mainInProcess, SMOKE_FLAGS, withTempDir } from "./_helpers.ts";

Deno.test("config sections and keys named constructor, valueOf, __defineGetter__ are unknown: exit 2, one line", () =>
  withTempDir(async (dir) => {
    const bodies = [
      '{"constructor": {}}',
      '{"valueOf": {"name": "x"}}',
      '{"__defineGetter__": {"length": 1}}',
      '{"toString": []}',
      '{"env": {"constructor": 1}}',
      '{"ppo": {"hasOwnProperty": true}}',
    ];
    for (const [i, body] of bodies.entries()) {
      const config = join(dir, `c${i}.json`);
      Deno.writeTextFileSync(config, body);
      const out = join(dir, `run${i}`);
      const r = await mainInProcess([
        "train",
        "--config",
        config,
        "--out-dir",
        out,
        ...SMOKE_FLAGS,
      ]);
      assert.equal(r.code, 2, `${body}: ${r.lines.join(" | ")}`);
      assert.equal(r.lines.length, 1, r.lines.join("\n"));
      assert.match(r.lines[0], /^error: --config .*: unknown (section|key) '/);
      assert.throws(() => Deno.statSync(out), Deno.errors.NotFound);
    }
  }));

Deno.test("numeric flags are decimal: --episodes 0x10 (and 0b1, 0o7, '') is refused", () =>
  withTempDir(async (dir) => {
    for (const value of ["0x10", "0b1", "0o7", " ", "1_000", "Infinity"]) {
      const out = join(dir, "run");
      const r = await mainInProcess(["train", "--episodes", value, "--out-dir", out, "--quiet"]);
      assert.equal(r.code, 2, `${value}: ${r.lines.join(" | ")}`);
      assert.match(r.lines[0], /^error: --episodes: expected an integer, got /);
      assert.throws(() => Deno.statSync(out), Deno.errors.NotFound);
    }
  }));

Deno.test("a file name's control characters are escaped in the error line", async () => {
  const name = "/nonexistent-delta-waypoint/a\nb\x1b[2J\tc\x7f.pt";
  const r = await mainInProcess(["eval", "--policy", name, "--episodes", "1"]);
  assert.equal(r.code, 2);
  assert.equal(r.lines.length, 1);
  // deno-lint-ignore no-control-regex
  assert.doesNotMatch(r.lines[0], /[\x00-\x1f\x7f]/);
  assert.ok(r.lines[0].includes("a\\nb\\x1b[2J\\tc\\x7f.pt"), r.lines[0]);
});
