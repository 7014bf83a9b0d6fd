/**
 * The TensorBoard event files of `src/io/tfevents.ts`: CRC-32C, our reader's round trip,
 * TensorBoard's own reader (`EventAccumulator` of the test venv) on what we write, a
 * torn last record, resume (dropped steps, the SessionLog START purge), and hostile
 * files given to our reader.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { FileReadError } from "../src/io/limits.ts";
import {
  crc32c,
  frameTfRecord,
  maskedCrc32c,
  TFRECORD_HEADER_BYTES,
  TFRECORD_OVERHEAD,
} from "../src/io/tfrecord.ts";
import {
  EVENT_FILE_BUDGET,
  EVENT_FILE_VERSION,
  lastEventSteps,
  readEventFile,
  type ScalarEvent,
  ScalarEventWriter,
  SESSION_LOG_START,
} from "../src/io/tfevents.ts";
import { runPython } from "./_python.ts";

const enc = new TextEncoder();

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "scalars_test_" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** A clock that ticks one second per call from `start`. */
function ticking(start: number): () => number {
  let t = start;
  return () => t++;
}

function eventFiles(dir: string): string[] {
  return [...Deno.readDirSync(dir)].map((e) => e.name).filter((n) => n.includes("tfevents"))
    .sort();
}

// ---------------------------------------------------------------------------------------
// TensorBoard's reader

/** Points TensorBoard shows: tag -> [step, value, wall time], values rounded to float32. */
type Points = Record<string, [number, number, number][]>;

// EventAccumulator (the documented reader) and plugin_event_accumulator (what the
// server's Python loader, `--load_fast=false`, uses: scalars become tensors there)
const ACCUMULATE = `
import json, sys
from tensorboard.backend.event_processing import event_accumulator as ea
from tensorboard.backend.event_processing import plugin_event_accumulator as pea
from tensorboard.util import tensor_util
acc = ea.EventAccumulator(sys.argv[1], size_guidance={ea.SCALARS: 0})
acc.Reload()
legacy = {tag: [[e.step, repr(e.value), repr(e.wall_time)] for e in acc.Scalars(tag)]
          for tag in acc.Tags()["scalars"]}
acc = pea.EventAccumulator(sys.argv[1], size_guidance={pea.TENSORS: 0})
acc.Reload()
plugin = {tag: [[e.step, repr(tensor_util.make_ndarray(e.tensor_proto).item()), repr(e.wall_time)]
                for e in acc.Tensors(tag)] for tag in acc.Tags()["tensors"]}
print(json.dumps([legacy, plugin]))
`;

function pyFloat(s: string): number {
  if (s === "nan") return NaN;
  if (s === "inf") return Infinity;
  if (s === "-inf") return -Infinity;
  return Number(s);
}

type RawPoints = Record<string, [number, string, string][]>;

function points(raw: RawPoints): Points {
  const out: Points = {};
  for (const [tag, list] of Object.entries(raw)) {
    out[tag] = list.map(([step, v, t]) => [step, pyFloat(v), pyFloat(t)]);
  }
  return out;
}

/**
 * What `EventAccumulator(dir).Reload()` loads, as {@linkcode Points}, after checking
 * that the server's `plugin_event_accumulator` loads the same.
 */
async function tensorBoardPoints(dir: string): Promise<Points> {
  const [legacy, plugin] = JSON.parse(await runPython(ACCUMULATE, [dir])) as RawPoints[];
  assert.deepEqual(points(plugin), points(legacy), "plugin_event_accumulator");
  return points(legacy);
}

/** The same view built from what was written: last write wins, float32 values. */
function expectedPoints(
  logged: { step: number; wallTime: number; scalars: Record<string, number> }[],
) {
  const points: Points = {};
  for (const { step, wallTime, scalars } of logged) {
    for (const [tag, v] of Object.entries(scalars)) {
      (points[tag] ??= []).push([step, Math.fround(v), wallTime]);
    }
  }
  return points;
}

// ---------------------------------------------------------------------------------------

Deno.test("crc32c: the check value of '123456789' is 0xE3069283", () => {
  assert.equal(crc32c(enc.encode("123456789")), 0xe3069283);
  assert.equal(crc32c(new Uint8Array(0)), 0);
  // masked(0) = rotate(0) + 0xA282EAD8
  assert.equal(maskedCrc32c(new Uint8Array(0)), 0xa282ead8);
});

Deno.test("crc32c: the masked CRC equals TensorBoard's for lengths 0 to 300", async () => {
  const inputs = Array.from(
    { length: 301 },
    (_, n) => Array.from({ length: n }, (_, i) => (i * 37 + n) & 0xff),
  );
  const ours = inputs.map((bytes) => maskedCrc32c(new Uint8Array(bytes)));
  // the same inputs, made in Python
  const theirs = JSON.parse(
    await runPython(`import json
from tensorboard.compat.tensorflow_stub.pywrap_tensorflow import masked_crc32c
print(json.dumps([masked_crc32c(bytes((i * 37 + n) & 0xff for i in range(n))) for n in range(301)]))`),
  );
  assert.deepEqual(ours, theirs);
});

/** Several tags, steps up to 2^40, NaN, ±Infinity, -0, a non-ASCII tag. */
function sampleLog(): { step: number; scalars: Record<string, number> }[] {
  const log: { step: number; scalars: Record<string, number> }[] = [];
  for (let i = 0; i <= 40; i += 4) {
    log.push({
      step: 2 ** i,
      scalars: {
        "rollout/ep_rew_mean": -3.25 + i * 0.1,
        "train/approx_kl": 1e-7 * (i + 1),
        "train/explained_variance": i === 8 ? NaN : i === 12 ? -Infinity : 1 / 3,
        "eval/ade_mean": i === 16 ? Infinity : i === 20 ? -0 : 1e30 * i,
        "eval/überholen_rate": i / 7,
      },
    });
  }
  log.push({ step: 2 ** 40 + 1, scalars: { "time/fps": 1234.5 } });
  return log;
}

Deno.test("tfevents: our reader reads back what the writer wrote", async () => {
  await withDir(async (dir) => {
    const clock = ticking(1_700_000_000.25);
    const writer = await ScalarEventWriter.create(dir, { wallTime: clock });
    const log = sampleLog();
    for (const { step, scalars } of log) writer.add(step, scalars);
    await writer.close();
    const { events, torn, records } = await readEventFile(writer.path);
    assert.equal(torn, false);
    assert.equal(records, log.length + 2);
    assert.equal(events[0].fileVersion, EVENT_FILE_VERSION);
    assert.equal(events[0].step, 0);
    assert.equal(events[0].wallTime, 1_700_000_000.25);
    // a new run's file: a SessionLog START at step 0 after the file version
    assert.deepEqual(
      [events[1].step, events[1].sessionStatus, events[1].wallTime],
      [0, SESSION_LOG_START, 1_700_000_000.25],
    );
    log.forEach(({ step, scalars }, i) => {
      const event = events[i + 2];
      assert.equal(event.step, step);
      assert.equal(event.wallTime, 1_700_000_001.25 + i);
      assert.deepEqual(
        event.values,
        Object.entries(scalars).map(([tag, v]) => ({ tag, value: Math.fround(v) })),
      );
    });
    const { lastStepByTag } = await lastEventSteps(dir);
    assert.equal(lastStepByTag.get("rollout/ep_rew_mean"), 2 ** 40);
    assert.equal(lastStepByTag.get("time/fps"), 2 ** 40 + 1);
  });
});

Deno.test("tfevents: TensorBoard's EventAccumulator reads tags, steps and values exactly", async () => {
  await withDir(async (dir) => {
    const clock = ticking(1_700_000_000.5);
    const writer = await ScalarEventWriter.create(dir, { wallTime: clock });
    const log = sampleLog();
    const logged = log.map(({ step, scalars }, i) => ({
      step,
      scalars,
      wallTime: 1_700_000_001.5 + i,
    }));
    for (const { step, scalars } of log) {
      writer.add(step, scalars);
      await writer.flush();
    }
    await writer.close();
    assert.match(
      writer.path,
      /events\.out\.tfevents\.1700000000\.[A-Za-z0-9._-]+$/,
    );
    assert.deepEqual(await tensorBoardPoints(dir), expectedPoints(logged));
  });
});

Deno.test("tfevents: a file cut inside its last record reads up to the record before, in TensorBoard too", async () => {
  await withDir(async (dir) => {
    const writer = await ScalarEventWriter.create(dir, { wallTime: ticking(1000) });
    const logged = [];
    for (let step = 1; step <= 5; step++) {
      const scalars = { "rollout/ep_rew_mean": step * 1.5, "train/value_loss": 10 / step };
      writer.add(step, scalars);
      logged.push({ step, scalars, wallTime: 1000 + step });
      await writer.flush();
    }
    await writer.close();
    const whole = await Deno.readFile(writer.path);
    const before = await readEventFile(writer.path);
    assert.equal(before.validBytes, whole.length);
    const lastRecord = whole.length - recordOffsets(whole).at(-1)!;
    // cut in the length, in its CRC, in the data, in the data's CRC, and at a boundary
    for (const keep of [3, 10, 12 + 5, lastRecord - 2, 0]) {
      const cut = whole.length - lastRecord + keep;
      await Deno.writeFile(writer.path, whole.subarray(0, cut));
      const read = await readEventFile(writer.path);
      assert.equal(read.torn, keep !== 0, `cut at ${keep}`);
      assert.equal(read.records, before.records - 1);
      assert.equal(read.validBytes, whole.length - lastRecord);
      assert.deepEqual(await tensorBoardPoints(dir), expectedPoints(logged.slice(0, 4)));
    }
  });
});

/** Offsets where each record of a well-formed file starts. */
function recordOffsets(bytes: Uint8Array): number[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const offsets = [];
  for (let at = 0; at < bytes.length;) {
    offsets.push(at);
    at += Number(view.getBigUint64(at, true)) + TFRECORD_OVERHEAD;
  }
  return offsets;
}

Deno.test("tfevents: a writer killed (SIGKILL) leaves a file readable up to its last flush", async () => {
  await withDir(async (dir) => {
    const module = new URL("../src/io/tfevents.ts", import.meta.url).href;
    const child = new Deno.Command(Deno.execPath(), {
      args: [
        "eval",
        `import { ScalarEventWriter } from "${module}";
const writer = await ScalarEventWriter.create(${JSON.stringify(dir)});
for (let step = 1;; step++) {
  writer.add(step, { "rollout/ep_rew_mean": step / 3, "time/fps": step });
  await writer.flush();
  console.log(step);
}`,
      ],
      stdout: "piped",
      stderr: "null",
      stdin: "null",
    }).spawn();
    // wait for 200 flushes, then kill
    const lines = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
    let seen = "";
    while (!seen.split("\n").includes("200")) {
      const { value, done } = await lines.read();
      if (done) break;
      seen += value;
    }
    child.kill("SIGKILL");
    await child.status;
    await lines.cancel();
    const [path] = eventFiles(dir).map((name) => join(dir, name));
    const { events } = await readEventFile(path);
    const steps = events.slice(2).map((e) => e.step);
    assert.ok(steps.length >= 200);
    assert.deepEqual(steps, steps.map((_, i) => i + 1));
    const shown = await tensorBoardPoints(dir);
    assert.deepEqual(shown["time/fps"].map(([s]) => s), steps);
  });
});

// ---------------------------------------------------------------------------------------
// Resume

/** The episode-560 run of the brief: every 10 episodes, eval every 50; killed mid-record. */
async function firstRun(dir: string, clock: () => number) {
  const writer = await ScalarEventWriter.create(dir, { wallTime: clock });
  const logged: { step: number; wallTime: number; scalars: Record<string, number> }[] = [];
  for (let step = 10; step <= 560; step += 10) {
    const scalars: Record<string, number> = {
      "rollout/ep_rew_mean": step / 10,
      "train/approx_kl": 0.01,
    };
    if (step % 50 === 0) scalars["eval/mean_reward"] = step / 5;
    logged.push({ step, scalars, wallTime: 0 });
    writer.add(step, scalars);
    await writer.flush();
  }
  await writer.close();
  // the kill tore the last record
  const bytes = await Deno.readFile(writer.path);
  await Deno.writeFile(writer.path, bytes.subarray(0, bytes.length - 7));
  return { path: writer.path, logged: logged.slice(0, -1) };
}

async function secondRun(writer: ScalarEventWriter) {
  const logged: { step: number; scalars: Record<string, number> }[] = [];
  for (let step = 510; step <= 700; step += 10) {
    const scalars: Record<string, number> = {
      "rollout/ep_rew_mean": -step,
      "train/approx_kl": 0.02,
    };
    if (step % 50 === 0) scalars["eval/mean_reward"] = -step / 5;
    logged.push({ step, scalars });
    writer.add(step, scalars);
    await writer.flush();
  }
  await writer.close();
  return logged;
}

/** Steps and values TensorBoard must show after resuming at 500: no stale or doubled point. */
function resumedView(
  first: { step: number; scalars: Record<string, number> }[],
  second: typeof first,
) {
  const view: Record<string, [number, number][]> = {};
  for (const { step, scalars } of [...first.filter((e) => e.step <= 500), ...second]) {
    for (const [tag, v] of Object.entries(scalars)) (view[tag] ??= []).push([step, Math.fround(v)]);
  }
  return view;
}

function stepsAndValues(points: Points): Record<string, [number, number][]> {
  return Object.fromEntries(
    Object.entries(points).map(([tag, list]) => [tag, list.map(([s, v]) => [s, v])]),
  );
}

Deno.test("tfevents resume: steps after the checkpoint are dropped; TensorBoard shows each step once", async () => {
  await withDir(async (dir) => {
    const { path: firstPath, logged: first } = await firstRun(dir, ticking(2_000_000_000));
    const original = await Deno.readFile(firstPath);
    assert.equal((await lastEventSteps(dir)).lastStepByTag.get("rollout/ep_rew_mean"), 550);

    // the clock went back: the new file must still sort after the first
    const writer = await ScalarEventWriter.resume(dir, {
      resumeStep: 500,
      wallTime: ticking(1_000),
    });
    assert.deepEqual(eventFiles(dir), [firstPath, writer.path].map((p) => p.split("/").at(-1)));
    assert.equal(writer.lastStep("rollout/ep_rew_mean"), 500);
    assert.equal(writer.lastStep("eval/mean_reward"), 500);
    assert.throws(() => writer.add(500, { "rollout/ep_rew_mean": 1 }), RangeError);
    // a refused add adds nothing, not even its tags that were fine
    assert.throws(() => writer.add(500, { "new/tag": 1, "eval/mean_reward": 1 }), RangeError);
    assert.equal(writer.lastStep("new/tag"), undefined);
    const second = await secondRun(writer);

    // the first file now ends at step 500, torn tail gone, records byte for byte
    const kept = await readEventFile(firstPath);
    assert.equal(kept.torn, false);
    assert.equal(kept.events.at(-1)!.step, 500);
    assert.deepEqual(
      await Deno.readFile(firstPath),
      original.subarray(0, kept.validBytes),
    );
    // the new file: file version, then START at 501, then the resumed run's points
    const fresh = (await readEventFile(writer.path)).events;
    assert.equal(fresh[0].fileVersion, EVENT_FILE_VERSION);
    assert.deepEqual([fresh[1].step, fresh[1].sessionStatus], [501, SESSION_LOG_START]);

    const expected = resumedView(first, second);
    assert.deepEqual(stepsAndValues(await tensorBoardPoints(dir)), expected);

    // TensorBoard's own mechanism alone (what a TensorBoard that had loaded the first
    // file before the resume relies on): put the un-cut first file back; the START at
    // 501 makes both Python loaders purge its steps 510..550 (the server's loader takes
    // the first START of a run, the one at step 0 of the first file, as the start, and
    // purges only at a later one)
    await Deno.writeFile(firstPath, original);
    assert.deepEqual(stepsAndValues(await tensorBoardPoints(dir)), expected);

    // and it is the START event that does it: without it, steps 510..550 show twice
    const bytes = await Deno.readFile(writer.path);
    const [, start, data] = recordOffsets(bytes);
    await Deno.writeFile(writer.path, join2(bytes.subarray(0, start), bytes.subarray(data)));
    const doubled = (await tensorBoardPoints(dir))["rollout/ep_rew_mean"].map(([s]) => s);
    assert.deepEqual(doubled.filter((s) => s === 510 || s === 550), [510, 550, 510, 550]);
  });
});

Deno.test("tfevents resume: a second resume from an earlier checkpoint drops the first resume's later steps", async () => {
  await withDir(async (dir) => {
    const { logged: first } = await firstRun(dir, ticking(2_000_000_000));
    const second = await secondRun(
      await ScalarEventWriter.resume(dir, { resumeStep: 500, wallTime: ticking(2_000_001_000) }),
    );
    const writer = await ScalarEventWriter.resume(dir, {
      resumeStep: 600,
      wallTime: ticking(2_000_002_000),
    });
    writer.add(610, { "rollout/ep_rew_mean": 42 });
    await writer.close();
    const expected = resumedView(first, second.filter((e) => e.step <= 600));
    expected["rollout/ep_rew_mean"].push([610, 42]);
    assert.deepEqual(stepsAndValues(await tensorBoardPoints(dir)), expected);
    assert.equal(eventFiles(dir).length, 3);
  });
});

// The TensorBoard server itself, as `tensorboard --logdir` runs it: RustBoard (the
// default when the data server is installed, as in the test venv) and the Python loader.
const SERVE = `
import json, sys, time, urllib.error, urllib.parse, urllib.request
from tensorboard import program
logdir, mode, want = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
tb = program.TensorBoard()
tb.configure(argv=[None, "--logdir", logdir, "--load_fast", mode, "--port", "0",
                   "--reload_interval", "1"])
url = tb.launch()
def scalars(tag):
    query = urllib.parse.urlencode({"run": ".", "tag": tag})
    with urllib.request.urlopen(url + "data/plugin/scalars/scalars?" + query, timeout=10) as r:
        return [[step, repr(value)] for _, step, value in json.load(r)]
got, deadline = None, time.time() + 60
while time.time() < deadline:
    try:
        got = {tag: scalars(tag) for tag in want}
        if all(len(got[tag]) == n for tag, n in want.items()):
            break
    except urllib.error.HTTPError:
        pass
    time.sleep(0.25)
print(json.dumps(got))
`;

Deno.test("tfevents resume: TensorBoard's server shows no stale point, RustBoard and Python loader", async () => {
  await withDir(async (dir) => {
    const { logged: first } = await firstRun(dir, ticking(2_000_000_000));
    const writer = await ScalarEventWriter.resume(dir, {
      resumeStep: 500,
      wallTime: ticking(2_000_001_000),
    });
    // killed again before the next evaluation: only the removal of eval/mean_reward's
    // points 510..550 from the first file keeps RustBoard (which ignores SessionLog) right
    const second = [{ step: 510, scalars: { "rollout/ep_rew_mean": -510 } }];
    writer.add(510, second[0].scalars);
    await writer.close();
    const expected = resumedView(first, second);
    delete expected["train/approx_kl"];
    const want = Object.fromEntries(Object.entries(expected).map(([t, list]) => [t, list.length]));
    for (const mode of ["true", "false"]) {
      const raw = JSON.parse(await runPython(SERVE, [dir, mode, JSON.stringify(want)])) as Record<
        string,
        [number, string][]
      >;
      const shown = Object.fromEntries(
        Object.entries(raw).map(([tag, list]) => [tag, list.map(([s, v]) => [s, pyFloat(v)])]),
      );
      assert.deepEqual(shown, expected, `--load_fast=${mode}`);
    }
  });
});

Deno.test("tfevents resume: a folder without event files starts a new one; nothing to drop", async () => {
  await withDir(async (dir) => {
    const writer = await ScalarEventWriter.resume(join(dir, "run"), { resumeStep: 0 });
    writer.add(1, { "time/fps": 10 });
    await writer.close();
    const { files, lastStepByTag } = await lastEventSteps(join(dir, "run"));
    assert.equal(files.length, 1);
    assert.deepEqual([...lastStepByTag], [["time/fps", 1]]);
  });
});

// ---------------------------------------------------------------------------------------
// The writer's arguments

Deno.test("tfevents writer: refuses bad steps, tags and values; adds nothing then", async () => {
  await withDir(async (dir) => {
    const writer = await ScalarEventWriter.create(dir, { suffix: "worker-1" });
    assert.match(writer.path, /events\.out\.tfevents\.\d+\.[A-Za-z0-9._-]+\.worker-1$/);
    for (const step of [-1, 1.5, NaN, Infinity, 2 ** 53]) {
      assert.throws(() => writer.add(step, { a: 1 }), RangeError, `step ${step}`);
    }
    assert.throws(() => writer.add(1, { "": 1 }), RangeError);
    assert.throws(() => writer.add(1, { ["a\uD800"]: 1 }), RangeError);
    assert.throws(() => writer.add(1, { ["x".repeat(1025)]: 1 }), RangeError);
    assert.throws(() => writer.add(1, { a: "1" as unknown as number }), TypeError);
    writer.add(2 ** 53 - 1, { a: 1 });
    assert.throws(() => writer.add(2 ** 53 - 1, { a: 2 }), RangeError);
    writer.add(3, {}); // nothing
    await writer.close();
    assert.throws(() => writer.add(4, { b: 1 }), Error);
    const { events } = await readEventFile(writer.path);
    assert.deepEqual(events.map((e) => e.step), [0, 0, 2 ** 53 - 1]);
    await assert.rejects(ScalarEventWriter.create(dir, { suffix: "../x" }), RangeError);
  });
});

Deno.test("tfevents writer: two writers of one folder in one second get two files, in order", async () => {
  await withDir(async (dir) => {
    const a = await ScalarEventWriter.create(dir, { wallTime: () => 1234.5 });
    const b = await ScalarEventWriter.create(dir, { wallTime: () => 1234.5 });
    await a.close();
    await b.close();
    assert.deepEqual(eventFiles(dir), [a.path, b.path].map((p) => p.split("/").at(-1)));
  });
});

// ---------------------------------------------------------------------------------------
// Hostile files given to our reader

/** A framed record around `data`; `tamper` may change it after framing. */
function record(data: Uint8Array, tamper?: (r: Uint8Array, view: DataView) => void): Uint8Array {
  const r = new Uint8Array(data.length + TFRECORD_OVERHEAD);
  r.set(data, TFRECORD_HEADER_BYTES);
  frameTfRecord(r, data.length);
  tamper?.(r, new DataView(r.buffer));
  return r;
}

/** A header claiming `length` data bytes, with a valid length CRC, and nothing after. */
function header(length: number | bigint): Uint8Array {
  const h = new Uint8Array(TFRECORD_HEADER_BYTES);
  const view = new DataView(h.buffer);
  view.setBigUint64(0, BigInt(length), true);
  view.setUint32(8, maskedCrc32c(h.subarray(0, 8)), true);
  return h;
}

function join2(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

Deno.test("tfevents reader: hostile files are refused or stopped, within budget", async () => {
  await withDir(async (dir) => {
    const writer = await ScalarEventWriter.create(dir, { wallTime: () => 1 });
    writer.add(1, { a: 1 });
    await writer.close();
    const good = await Deno.readFile(writer.path);
    const path = join(dir, "events.out.tfevents.hostile");
    const event = good.subarray(TFRECORD_HEADER_BYTES, recordOffsets(good)[1] - 4);

    const refused: [string, Uint8Array, RegExp][] = [
      ["data CRC", record(event, (r) => r[r.length - 1] ^= 1), /data fails its CRC-32C/],
      ["a flipped data byte", record(event, (r) => r[20] ^= 0x40), /data fails its CRC-32C/],
      ["length CRC", record(event, (r) => r[9] ^= 1), /length fails its CRC-32C/],
      [
        "a 2^40-byte record",
        join2(header(2 ** 40), new Uint8Array(100)),
        /over the limit of 1048576/,
      ],
      ["a 2^64-1 length", join2(header(0xffffffffffffffffn)), /over the limit/],
      ["a group wire type", record(new Uint8Array([0x0b, 0x0c])), /wire type 3/],
      [
        "a varint over 10 bytes",
        record(new Uint8Array([0x10, ...Array(11).fill(0xff), 1])),
        /varint/,
      ],
      ["a negative step", record(new Uint8Array([0x10, ...Array(9).fill(0xff), 1])), /2\^53/],
      ["a field past the end", record(new Uint8Array([0x2a, 0x7f, 0x0a])), /past the end/],
      [
        "a tag of 2000 bytes",
        record(
          new Uint8Array([
            0x2a,
            0xd3,
            0x0f,
            0x0a,
            0xd0,
            0x0f,
            0x0a,
            0xcd,
            0x0f,
            ...Array(1997).fill(0x61),
          ]),
        ),
        /tag of 1997 bytes/,
      ],
      [
        "a tag not UTF-8",
        record(new Uint8Array([0x2a, 0x05, 0x0a, 0x03, 0x0a, 0x01, 0xff])),
        /not UTF-8/,
      ],
      ["step as a string", record(new Uint8Array([0x12, 0x01, 0x61])), /wire type 2/],
    ];
    for (const [what, bytes, message] of refused) {
      await Deno.writeFile(path, join2(good, bytes, good));
      await assert.rejects(readEventFile(path), (e: unknown) => {
        assert.ok(e instanceof FileReadError, what);
        assert.match(e.message, message, what);
        assert.ok(e.message.startsWith(path), what);
        return true;
      });
    }

    // stopped (a torn tail): a claimed length under the limit, and the file ends
    for (const tail of [header(1000), header(1024 * 1024), good.subarray(0, 5)]) {
      await Deno.writeFile(path, join2(good, tail));
      const read = await readEventFile(path);
      assert.equal(read.torn, true);
      assert.equal(read.events.length, 3);
    }

    // budgets: records, file size, values, tags, a folder is not a file
    await Deno.writeFile(path, join2(good, good, good));
    const small = { ...EVENT_FILE_BUDGET, maxRecords: 5 };
    await assert.rejects(readEventFile(path, small), /more than 5 records/);
    await assert.rejects(
      readEventFile(path, { ...EVENT_FILE_BUDGET, maxBytes: 100 }),
      /over the limit of 100 bytes/,
    );
    await assert.rejects(
      readEventFile(path, { ...EVENT_FILE_BUDGET, maxValues: 4 }),
      /more than 4 values/,
    );
    await assert.rejects(
      lastEventSteps(dir, { ...EVENT_FILE_BUDGET, maxFiles: 1 }),
      /more than 1 event files/,
    );
    await Deno.writeFile(
      path,
      join2(good, record(new Uint8Array([0x2a, 0x05, 0x0a, 0x03, 0x0a, 0x01, 0x62]))),
    );
    await assert.rejects(
      lastEventSteps(dir, { ...EVENT_FILE_BUDGET, maxTags: 1 }),
      /more than 1 tags/,
    );
    await assert.rejects(readEventFile(dir), /is a folder/);
    await assert.rejects(readEventFile(join(dir, "missing")), /file not found/);
  });
});

Deno.test("tfevents reader: a 2^40-byte claim allocates nothing near it", async () => {
  await withDir(async (dir) => {
    const path = join(dir, "events.out.tfevents.1.huge");
    // 900 KiB claimed (under the limit), 64 KiB present: torn; and 2^40 claimed: refused
    await Deno.writeFile(path, join2(header(900 * 1024), new Uint8Array(64 * 1024)));
    const before = Deno.memoryUsage().rss;
    assert.equal((await readEventFile(path)).torn, true);
    await Deno.writeFile(path, join2(header(2 ** 40), new Uint8Array(64 * 1024)));
    await assert.rejects(readEventFile(path), FileReadError);
    assert.ok(Deno.memoryUsage().rss - before < 64 * 1024 * 1024);
  });
});

// an Event decoded from a record we frame by hand: unknown fields are skipped
Deno.test("tfevents reader: unknown fields are skipped", async () => {
  await withDir(async (dir) => {
    const path = join(dir, "events.out.tfevents.1.x");
    // step 7, an unknown varint field 15, an unknown fixed32 field 14, a summary with one value
    // whose unknown field 9 (metadata) is skipped
    const data = new Uint8Array([
      0x10,
      0x07,
      0x78,
      0x05,
      0x75,
      1,
      2,
      3,
      4,
      0x2a,
      0x0c,
      0x0a,
      0x0a,
      0x0a,
      0x01,
      0x62,
      0x4a,
      0x00,
      0x15,
      0x00,
      0x00,
      0x80,
      0x3f,
    ]);
    await Deno.writeFile(path, record(data));
    const { events } = await readEventFile(path);
    assert.deepEqual(
      events,
      [{ wallTime: 0, step: 7, values: [{ tag: "b", value: 1 }] }] as ScalarEvent[],
    );
  });
});
