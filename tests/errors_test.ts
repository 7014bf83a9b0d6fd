/**
 * No stack trace reaches a user: a run folder that cannot be written (below a regular
 * file, under /proc) is one line with the OS's reason and exit 2, before anything is
 * written; an unexpected error is one line with exit 1 and a hint that
 * DELTA_WAYPOINT_DEBUG=1 shows the trace (`reportError`, which main.ts and sft.ts share).
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { runCli, SMOKE_FLAGS, TINY_SFT_FLAGS, withTempDir } from "./_helpers.ts";
import { EXIT, reportError, UserError } from "../src/errors.ts";

function assertOneLine(r: { code: number; stderr: string }, code: number, pattern: RegExp) {
  assert.equal(r.code, code, r.stderr);
  const lines = r.stderr.trimEnd().split("\n");
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0], pattern);
}

Deno.test("an --out-dir that cannot be written is one line with the OS reason, exit 2", () =>
  withTempDir(async (dir) => {
    const file = join(dir, "a_file");
    Deno.writeTextFileSync(file, "x");
    const below = join(file, "run");
    const t = await runCli(["train", "--out-dir", below, ...SMOKE_FLAGS]);
    assertOneLine(
      t,
      2,
      /^error: --out-dir .*a_file\/run: cannot write the run there: Not a directory/,
    );
    const s = await runCli(["sft", "--out-dir", below, ...TINY_SFT_FLAGS]);
    assertOneLine(s, 2, /^error: --out-dir .*a_file\/run: cannot write there: Not a directory/);
    assert.equal(Deno.readTextFileSync(file), "x");

    const proc = await runCli(["train", "--out-dir", "/proc/delta_waypoint_run", ...SMOKE_FLAGS]);
    assertOneLine(
      proc,
      2,
      /^error: --out-dir \/proc\/delta_waypoint_run: cannot write the run there: /,
    );
  }));

Deno.test("reportError: one line and its code for every kind of error; the trace only with DELTA_WAYPOINT_DEBUG=1", () => {
  const lines: string[] = [];
  const original = console.error;
  console.error = (...args: unknown[]) => lines.push(args.join(" "));
  const had = Deno.env.get("DELTA_WAYPOINT_DEBUG");
  try {
    Deno.env.delete("DELTA_WAYPOINT_DEBUG");
    assert.equal(reportError(new UserError("--lr: bad", { exitCode: 2 })), EXIT.badInput);
    assert.equal(reportError(new UserError("diverged", { exitCode: 3 })), EXIT.diverged);
    const os = new Deno.errors.NotFound("No such file or directory (os error 2): open 'x'\nmore");
    assert.equal(reportError(os), EXIT.badInput);
    const bug = new TypeError("cannot read properties of undefined\n  detail");
    assert.equal(reportError(bug), EXIT.unexpected);
    assert.deepEqual(lines, [
      "error: --lr: bad",
      "error: diverged",
      "error: No such file or directory (os error 2): open 'x'\\nmore",
      "error: unexpected TypeError: cannot read properties of undefined (a bug; run with DELTA_WAYPOINT_DEBUG=1 for the stack trace)",
    ]);
    lines.length = 0;
    Deno.env.set("DELTA_WAYPOINT_DEBUG", "1");
    assert.equal(reportError(bug), EXIT.unexpected);
    assert.equal(lines.length, 1);
    assert.ok(lines[0].startsWith("TypeError: cannot read properties of undefined"), lines[0]);
    assert.match(lines[0], /\n\s+at /);
  } finally {
    console.error = original;
    if (had === undefined) Deno.env.delete("DELTA_WAYPOINT_DEBUG");
    else Deno.env.set("DELTA_WAYPOINT_DEBUG", had);
  }
});
