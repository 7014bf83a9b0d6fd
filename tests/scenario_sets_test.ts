/**
 * Scenario sets that cannot be half read or half replaced (issue 18): the set's byte
 * budget is counted while reading and its numbers are bounded; a `scenarios --overwrite`
 * killed while it moves the new set in leaves a folder that readers refuse with one line
 * (never a silent mix of old and new files).
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { ROOT, withTempDir } from "./_helpers.ts";
import { readScenarioSet, scenarioBudget, SetBudget } from "../src/run/mod.ts";
import {
  DEFAULT_TRAFFIC_CONFIG,
  generateScenario,
  scenarioJson,
  TRAFFIC_ENV,
  TRAFFIC_ENV_DEFAULTS,
} from "../src/env/mod.ts";
import { UserError } from "../src/errors.ts";

const support = TRAFFIC_ENV.scenarios!;
const SCENARIO_BUDGET = scenarioBudget(support);

const made = (seed: number) =>
  generateScenario(seed, { env: TRAFFIC_ENV_DEFAULTS, traffic: DEFAULT_TRAFFIC_CONFIG });

Deno.test("a set's bytes are counted while reading, and its numbers are bounded", () =>
  withTempDir(async (dir) => {
    const files = [0, 1, 2].map((seed) => {
      const file = join(dir, `s${seed}.json`);
      Deno.writeTextFileSync(file, scenarioJson(made(seed)));
      return file;
    });
    const size = Deno.statSync(files[0]).size;
    // a file that grew after the listing: the budget counts what is read
    const bytes = new SetBudget("--scenarios set", {
      support,
      max: { bytes: 2 * size + 10, numbers: 1e9 },
    });
    await bytes.readJson(files[0], SCENARIO_BUDGET);
    Deno.writeTextFileSync(files[1], scenarioJson(made(1)) + " ".repeat(size));
    await assert.rejects(
      () => bytes.readJson(files[1], SCENARIO_BUDGET),
      (e: unknown) =>
        e instanceof UserError && /more than \d+ bytes \(counted while reading/.test(e.message),
    );
    const numbers = new SetBudget("--scenarios set", {
      support,
      max: { bytes: 1e9, numbers: 100 },
    });
    assert.throws(
      () => numbers.count(made(2), files[2]),
      /--scenarios set: its scenarios hold more than 100 numbers \(points and samples, at .*s2\.json\), the limit/,
    );
  }));

Deno.test("scenarios --overwrite killed while moving the new set in: readers refuse the folder with one line", async () => {
  await withTempDir(async (dir) => {
    const set = join(dir, "set");
    const cli = (args: string[]) =>
      new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", join(ROOT, "main.ts"), "scenarios", "--env", "traffic", ...args],
        stdin: "null",
        stdout: "null",
        stderr: "piped",
      });
    // 600 files: moving a set in takes long enough to be killed in the middle
    const first = await cli(["--count", "600", "--seed", "0", "--out-dir", set]).output();
    assert.equal(first.code, 0, new TextDecoder().decode(first.stderr));
    // the file the swap removes first (the new set's names start at seed_000300)
    const goesFirst = join(set, [...Deno.readDirSync(set)].map((e) => e.name).sort()[0]);
    const child = cli(["--count", "600", "--seed", "300", "--out-dir", set, "--overwrite"]).spawn();
    for (let i = 0; i < 2_000_000; i++) {
      try {
        Deno.statSync(goesFirst);
      } catch {
        break;
      }
      if (i % 1000 === 0) await new Promise((r) => setTimeout(r, 1));
    }
    child.kill("SIGKILL");
    await child.output();
    const names = [...Deno.readDirSync(set)].map((e) => e.name);
    const whole = names.filter((n) => n.endsWith(".json")).length === 600;
    if (whole && !names.some((n) => n.startsWith("."))) {
      console.error("the kill came after the swap: the new set is whole");
      return;
    }
    await assert.rejects(
      () => readScenarioSet(set, { flag: "--scenarios", support }),
      /--scenarios .*set: holds a half-replaced scenario set \(.*\.scenarios-replacing-.* is left from an interrupted scenarios --overwrite\)/,
    );
    // writing the set again replaces it whole
    const again = await cli(["--count", "5", "--seed", "0", "--out-dir", set, "--overwrite"])
      .output();
    assert.equal(again.code, 0, new TextDecoder().decode(again.stderr));
    assert.equal(
      (await readScenarioSet(set, { flag: "--scenarios", support })).scenarios.length,
      5,
    );
    assert.deepEqual([...Deno.readDirSync(set)].filter((e) => e.name.startsWith(".")), []);
  });
});
