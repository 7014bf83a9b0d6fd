/**
 * `progress.csv` (`src/io/progress_csv.ts`): read back by Python's `csv` module, numbers
 * to the last bit, RFC 4180 quoting, the header widened by a later key (atomically),
 * and resume (rows after the checkpoint and a torn last row dropped).
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { FileReadError } from "../src/io/limits.ts";
import {
  csvField,
  type CsvValue,
  formatCsvNumber,
  parseCsv,
  ProgressCsvWriter,
} from "../src/io/progress_csv.ts";
import { runPython } from "./_python.ts";

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "progress_csv_test_" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Python's view: `csv.reader` rows, and `repr(float(cell))` of each cell that is a number. */
async function pythonRead(
  path: string,
): Promise<{ rows: string[][]; floats: (string | null)[][] }> {
  return JSON.parse(
    await runPython(
      `import csv, json, sys
def num(c):
    try:
        return repr(float(c))
    except ValueError:
        return None
with open(sys.argv[1], newline="", encoding="utf-8") as f:
    rows = list(csv.reader(f))
print(json.dumps({"rows": rows, "floats": [[num(c) for c in r] for r in rows]}))`,
      [path],
    ),
  );
}

function pyFloat(s: string): number {
  if (s === "nan") return NaN;
  if (s === "inf") return Infinity;
  if (s === "-inf") return -Infinity;
  return Number(s);
}

const NUMBERS = [
  0,
  -0,
  0.1,
  1 / 3,
  -2.5e-7,
  1e21,
  123456789.123456789,
  2 ** 60,
  Number.MAX_VALUE,
  Number.MIN_VALUE,
  NaN,
  Infinity,
  -Infinity,
];

Deno.test("progress.csv: Python's csv module reads back every number to the bit, and quoted text", async () => {
  await withDir(async (dir) => {
    const path = join(dir, "progress.csv");
    const csv = await ProgressCsvWriter.create(path);
    const texts = ["plain", "a,b", 'say "hi"', "two\nlines", "crlf\r\nend", "überholen", ""];
    NUMBERS.forEach((x, i) => {
      csv.add({ "time/episodes": i, "train/value": x, "note": texts[i % texts.length] });
    });
    await csv.close();
    const { rows, floats } = await pythonRead(path);
    assert.deepEqual(rows[0], ["time/episodes", "train/value", "note"]);
    assert.equal(rows.length, NUMBERS.length + 1);
    NUMBERS.forEach((x, i) => {
      assert.ok(Object.is(pyFloat(floats[i + 1][1]!), x), `${x}: ${rows[i + 1][1]}`);
      assert.equal(rows[i + 1][0], String(i));
      assert.equal(rows[i + 1][2], texts[i % texts.length]);
    });
  });
});

Deno.test("progress.csv: a key appearing later rewrites the file with the wider header", async () => {
  await withDir(async (dir) => {
    const path = join(dir, "progress.csv");
    const csv = await ProgressCsvWriter.create(path);
    csv.add({ "time/episodes": 10, "rollout/ep_rew_mean": -3 });
    await csv.flush();
    csv.add({ "time/episodes": 20, "rollout/ep_rew_mean": -2 });
    await csv.flush();
    const before = await Deno.stat(path);
    // eval appears at 50, with a key needing quotes; one row lacks rollout
    csv.add({ "time/episodes": 50, "eval/mean_reward": 7.5, "eval/a,b": 1 });
    await csv.flush();
    const after = await Deno.stat(path);
    assert.notEqual(after.ino, before.ino, "rewritten through a new file");
    // later rows go to the rewritten file
    csv.add({ "time/episodes": 60, "rollout/ep_rew_mean": -1 });
    await csv.close();
    assert.deepEqual(csv.keys, [
      "time/episodes",
      "rollout/ep_rew_mean",
      "eval/mean_reward",
      "eval/a,b",
    ]);
    const { rows } = await pythonRead(path);
    assert.deepEqual(rows, [
      ["time/episodes", "rollout/ep_rew_mean", "eval/mean_reward", "eval/a,b"],
      ["10", "-3", "", ""],
      ["20", "-2", "", ""],
      ["50", "", "7.5", "1"],
      ["60", "-1", "", ""],
    ]);
    // no temporary file left beside it
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["progress.csv"]);
  });
});

Deno.test("progress.csv resume: rows after the resume step and a torn last row are dropped", async () => {
  await withDir(async (dir) => {
    const path = join(dir, "progress.csv");
    const first = await ProgressCsvWriter.create(path);
    for (let episode = 10; episode <= 560; episode += 10) {
      const row: Record<string, CsvValue> = {
        "time/episodes": episode,
        "rollout/ep_rew_mean": episode,
      };
      if (episode >= 300) row["eval/mean_reward"] = episode / 2;
      first.add(row);
      await first.flush();
    }
    await first.close();
    // the kill cut the last row
    const text = await Deno.readTextFile(path);
    await Deno.writeTextFile(path, text.slice(0, -4));
    // the torn row "560,560,2" is dropped even when its step is kept
    const copy = join(dir, "copy.csv");
    await Deno.copyFile(path, copy);
    const late = { stepKey: "time/episodes", resumeStep: 560 };
    await (await ProgressCsvWriter.create(copy, { resume: late })).close();
    assert.ok((await Deno.readTextFile(copy)).endsWith("\n550,550,275\n"));

    const csv = await ProgressCsvWriter.create(path, {
      resume: { stepKey: "time/episodes", resumeStep: 500 },
    });
    assert.deepEqual(csv.keys, ["time/episodes", "rollout/ep_rew_mean", "eval/mean_reward"]);
    for (let episode = 510; episode <= 600; episode += 10) {
      csv.add({ "time/episodes": episode, "rollout/ep_rew_mean": -episode, "time/fps": 100 });
    }
    await csv.close();
    const { rows } = await pythonRead(path);
    assert.deepEqual(rows[0], [
      "time/episodes",
      "rollout/ep_rew_mean",
      "eval/mean_reward",
      "time/fps",
    ]);
    const episodes = rows.slice(1).map((r) => Number(r[0]));
    const expected = [];
    for (let e = 10; e <= 600; e += 10) expected.push(e);
    assert.deepEqual(episodes, expected);
    assert.deepEqual(rows.find((r) => r[0] === "500"), ["500", "500", "250", ""]);
    assert.deepEqual(rows.find((r) => r[0] === "510"), ["510", "-510", "", "100"]);
  });
});

Deno.test("progress.csv resume: a missing file starts empty; a file without the step column is refused", async () => {
  await withDir(async (dir) => {
    const path = join(dir, "progress.csv");
    const resume = { stepKey: "time/episodes", resumeStep: 5 };
    const csv = await ProgressCsvWriter.create(path, { resume });
    csv.add({ "time/episodes": 6 });
    await csv.close();
    assert.equal(await Deno.readTextFile(path), "time/episodes\n6\n");

    await Deno.writeTextFile(path, "episode,x\n1,2\n");
    await assert.rejects(ProgressCsvWriter.create(path, { resume }), (e: unknown) => {
      assert.ok(e instanceof FileReadError);
      assert.match(e.message, /no column 'time\/episodes'/);
      return true;
    });
    await Deno.writeTextFile(path, 'time/episodes,x\n1,a"b\n');
    await assert.rejects(ProgressCsvWriter.create(path, { resume }), /not CSV: row 2: a quote/);
    await Deno.writeTextFile(path, "a,".repeat(10_001) + "\n");
    await assert.rejects(ProgressCsvWriter.create(path, { resume }), /more than 10000 fields/);
    await Deno.writeFile(path, new Uint8Array([0x61, 0xff, 0x0a]));
    await assert.rejects(ProgressCsvWriter.create(path, { resume }), /not UTF-8/);
  });
});

Deno.test("progress.csv: cells, quoting and the parser", async () => {
  assert.equal(formatCsvNumber(1e-7), "1e-7");
  assert.equal(formatCsvNumber(-0), "-0");
  assert.equal(csvField("a\nb"), '"a\nb"');
  assert.equal(csvField("plain"), "plain");
  const text = 'k,"q ""x"", y"\r\n1,"two\nlines"\n,\n3,4';
  assert.deepEqual(parseCsv(text, { maxColumns: 2 }), {
    rows: [["k", 'q "x", y'], ["1", "two\nlines"], ["", ""]],
    torn: true,
  });
  assert.throws(() => parseCsv('"a"b\n', { maxColumns: 2 }), SyntaxError);
  await withDir(async (dir) => {
    const csv = await ProgressCsvWriter.create(join(dir, "progress.csv"));
    assert.throws(() => csv.add({ a: true as unknown as number }), TypeError);
    await csv.close();
    assert.throws(() => csv.add({ a: 1 }), Error);
    assert.equal(await Deno.readTextFile(join(dir, "progress.csv")), "");
  });
});
