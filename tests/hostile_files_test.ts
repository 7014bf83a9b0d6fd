/**
 * Hostile and unlucky files given to every reader of a `.pt` (`inspect`, `train --resume`,
 * `train --sft-model`, `eval --policy`, the SFT planner a checkpoint names) and of
 * `--config`: tiny files that would take gigabytes or hours, nesting that would overflow
 * the stack, devices and FIFOs. Each case runs the real CLI in a child process and must
 * end with exit code 2 and one line on stderr naming the file, no stack trace, a peak
 * memory under 300 MB (the child reports its VmHWM) and no hang (a child still running
 * after 20 s is killed, and that fails the case). The files are made here, by hand-
 * assembled pickles and the project's own zip writer; no PyTorch.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { writeZip } from "../src/io/_zip.ts";
import { writePt } from "../src/io/torch_pt.ts";
import { trainerCheckpoint } from "../src/run/mod.ts";
import {
  FileReadError,
  MAX_CONFIG_FILE_BYTES,
  MAX_PT_FILE_BYTES,
  readBoundedFile,
  readBoundedFileSync,
} from "../src/io/limits.ts";
import { DEFAULT_PPO_CONFIG, Trainer } from "../src/ppo/mod.ts";
import { BuiltinSftPlanner, Driving } from "../src/env/mod.ts";
import { SMOKE_ENV, withTempDir } from "./_helpers.ts";
import { type Case, runCases } from "./_hostile_cases.ts";

// ---------------------------------------------------------------------------------------
// Hand-assembled pickles (protocol 2 opcodes)

const enc = new TextEncoder();
type Part = number | Uint8Array;

function bytes(...parts: Part[]): Uint8Array {
  return concat(parts);
}

/** `parts` joined (an array, not spread: some pickles here have 600,000 parts). */
function concat(parts: Part[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += typeof p === "number" ? 1 : p.length;
  const out = new Uint8Array(n);
  let at = 0;
  for (const p of parts) {
    if (typeof p === "number") out[at++] = p;
    else {
      out.set(p, at);
      at += p.length;
    }
  }
  return out;
}

function u32(n: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n, true);
  return b;
}

const op = {
  PROTO2: bytes(0x80, 2),
  MARK: 0x28,
  STOP: 0x2e,
  POP: 0x30,
  EMPTY_DICT: 0x7d,
  EMPTY_LIST: 0x5d,
  EMPTY_TUPLE: 0x29,
  APPEND: 0x61,
  LIST: 0x6c,
  TUPLE: 0x74,
  TUPLE1: 0x85,
  SETITEM: 0x73,
  SETITEMS: 0x75,
  REDUCE: 0x52,
  BINPERSID: 0x51,
  NEWFALSE: 0x89,
  str: (s: string) => {
    const utf8 = enc.encode(s);
    return bytes(0x58, u32(utf8.length), utf8);
  },
  int: (n: number) => bytes(0x4a, u32(n)), // BININT (n < 2^31 here)
  global: (module: string, name: string) => bytes(0x63, enc.encode(`${module}\n${name}\n`)),
  put: (i: number) => bytes(0x72, u32(i)), // LONG_BINPUT
  get: (i: number) => bytes(0x6a, u32(i)), // LONG_BINGET
};

/** `torch._utils._rebuild_tensor_v2` of a float64 view of storage `key` (`numel` values). */
function tensor(
  key: string,
  numel: number,
  view: { offset: number; size: number; stride: number },
): Uint8Array {
  return bytes(
    op.global("torch._utils", "_rebuild_tensor_v2"),
    op.MARK,
    op.MARK,
    op.str("storage"),
    op.global("torch", "DoubleStorage"),
    op.str(key),
    op.str("cpu"),
    op.int(numel),
    op.TUPLE,
    op.BINPERSID,
    op.int(view.offset),
    op.MARK,
    op.int(view.size),
    op.TUPLE,
    op.MARK,
    op.int(view.stride),
    op.TUPLE,
    op.NEWFALSE,
    op.global("collections", "OrderedDict"),
    op.EMPTY_TUPLE,
    op.REDUCE,
    op.TUPLE,
    op.REDUCE,
  );
}

/** A `.pt` zip holding `pickle` as `h/data.pkl` and the given storage records. */
function ptFile(pickle: Uint8Array, storages: Record<string, Uint8Array> = {}): Uint8Array {
  return writeZip([
    { name: "h/data.pkl", data: pickle },
    ...Object.entries(storages).map(([key, data]) => ({ name: `h/data/${key}`, data })),
    { name: "h/version", data: enc.encode("3\n") },
  ]);
}

/** A pickle of `{"metrics": <body>}`, so the hostile part sits where a checkpoint's would. */
function inCheckpointDict(...body: Part[]): Uint8Array {
  return concat([op.PROTO2, op.EMPTY_DICT, op.str("metrics"), ...body, op.SETITEM, op.STOP]);
}

/** The hostile `.pt` files, by name. */
function hostilePtFiles(): Record<string, Uint8Array> {
  const files: Record<string, Uint8Array> = {};
  const N = 100_000;

  // 24 float64 tensors of 2^24 elements, each a stride-0 view of a 1-element storage.
  const stride0: Part[] = [op.PROTO2, op.EMPTY_DICT, op.MARK];
  const one: Record<string, Uint8Array> = {};
  for (let i = 0; i < 24; i++) {
    stride0.push(op.str(`t${i}`), tensor(`${i}`, 1, { offset: 0, size: 1 << 24, stride: 0 }));
    one[`${i}`] = new Uint8Array(8);
  }
  files["stride0.pt"] = ptFile(concat([...stride0, op.SETITEMS, op.STOP]), one);

  // 500 copies of one 200,000-element storage (1.6 MB): 800 MB if all were made.
  const views: Part[] = [op.PROTO2, op.EMPTY_LIST, op.MARK];
  for (let i = 0; i < 500; i++) {
    views.push(tensor("0", 200_000, { offset: 1, size: 199_999, stride: 1 }));
  }
  files["views.pt"] = ptFile(concat([...views, 0x65, op.STOP]), { "0": new Uint8Array(1_600_000) });

  // Billion laughs: 40 levels, each a list holding the level below twice (via the memo).
  const laughs: Part[] = [op.EMPTY_LIST, op.put(0), op.POP];
  for (let i = 1; i <= 40; i++) {
    laughs.push(op.MARK, op.get(i - 1), op.get(i - 1), op.LIST, op.put(i), op.POP);
  }
  laughs.push(op.get(40));
  files["laughs.pt"] = ptFile(inCheckpointDict(...laughs));

  // A 400 KB integer (LONG4).
  files["long4.pt"] = ptFile(
    inCheckpointDict(0x8b, u32(400 * 1024), new Uint8Array(400 * 1024).fill(0x5a)),
  );

  // A 2 MiB string.
  files["bigstring.pt"] = ptFile(inCheckpointDict(op.str("a".repeat(2 * 1024 * 1024))));

  // 100,000-deep list, tuple and dict.
  const deepList = new Uint8Array(2 * N - 1).fill(op.EMPTY_LIST, 0, N).fill(op.APPEND, N);
  files["deep_list.pt"] = ptFile(inCheckpointDict(deepList));
  const deepTuple = new Uint8Array(N).fill(op.TUPLE1).fill(op.EMPTY_TUPLE, 0, 1);
  files["deep_tuple.pt"] = ptFile(inCheckpointDict(deepTuple));
  const deepDict: Part[] = [op.PROTO2, op.EMPTY_DICT, op.put(0)];
  for (let i = 1; i <= N; i++) {
    deepDict.push(op.get(i - 1), op.int(1), op.EMPTY_DICT, op.put(i), op.SETITEM, op.POP);
  }
  files["deep_dict.pt"] = ptFile(concat([...deepDict, op.STOP]));

  // A list that contains itself.
  files["selfloop.pt"] = ptFile(
    inCheckpointDict(op.EMPTY_LIST, op.put(0), op.get(0), op.APPEND),
  );
  return files;
}

// ---------------------------------------------------------------------------------------
// Running the CLI

/** A real training checkpoint (smoke sizes) whose recorded SFT planner is `sftModel`. */
async function checkpointNaming(path: string, sftModel: string): Promise<void> {
  const ppo = {
    ...DEFAULT_PPO_CONFIG,
    hidden_dim: 8,
    horizon_steps: SMOKE_ENV.horizon_steps,
    encoder_out_dim: 1 + 2 * SMOKE_ENV.horizon_steps,
  };
  const env = { ...SMOKE_ENV };
  const trainer = new Trainer({
    env,
    ppo,
    planner: new BuiltinSftPlanner(env),
    makeEnv: (n) => new Driving(env, n),
  });
  await writePt(path, trainerCheckpoint(trainer, { extra: { sft_model: sftModel } }));
}

Deno.test("hostile .pt and --config files: exit 2, one line naming the file, bounded memory and time", async () => {
  await withTempDir(async (dir) => {
    const at = (name: string) => join(dir, name);
    for (const [name, data] of Object.entries(hostilePtFiles())) Deno.writeFileSync(at(name), data);
    Deno.symlinkSync("/dev/zero", at("zero.pt"));
    Deno.symlinkSync("/dev/urandom", at("urandom.pt"));
    Deno.symlinkSync("/dev/zero", at("zero.json"));
    const mkfifo = await new Deno.Command("mkfifo", { args: [at("fifo.pt"), at("fifo.json")] })
      .output();
    assert.equal(mkfifo.code, 0, "mkfifo");
    Deno.mkdirSync(at("folder.pt"));
    // A config value nested 400,000 deep (800 KB, under the 1 MiB limit).
    const deep = 400_000;
    Deno.writeTextFileSync(
      at("deep.json"),
      `{"env": {"world_size": ${"[".repeat(deep)}${"]".repeat(deep)}}}`,
    );
    // Sparse files one byte over the limits (no disk space used).
    for (
      const [name, size] of [["huge.pt", MAX_PT_FILE_BYTES], ["huge.json", MAX_CONFIG_FILE_BYTES]]
    ) {
      using f = Deno.openSync(at(name as string), { write: true, create: true });
      f.truncateSync((size as number) + 1);
    }
    await checkpointNaming(at("sft_zero.pt"), "/dev/zero");
    await checkpointNaming(at("sft_fifo.pt"), at("fifo.pt"));

    const overBudget: Record<string, RegExp> = {
      "stride0.pt": /has 16777216 elements but its storage '0' holds 1: over the limit of 65536/,
      "views.pt": /materialises more than \d+ values, over the limit/,
      "laughs.pt": /more than \d+ values once shared values are counted where they appear/,
      "long4.pt": /integer of 409600 bytes is over the limit of 256 bytes/,
      "bigstring.pt": /string of 2097152 bytes is over the limit of 1048576 bytes/,
      "deep_list.pt": /nests lists, tuples or dicts deeper than the limit of 100/,
      "deep_tuple.pt": /deeper than the limit of 100/,
      "deep_dict.pt": /deeper than the limit of 100/,
      "selfloop.pt": /builds a list that contains itself/,
      "zero.pt": /not a regular file \(a character device\)/,
      "urandom.pt": /not a regular file \(a character device\)/,
      "fifo.pt": /not a regular file \(a FIFO\)/,
      "folder.pt": /is a folder/,
      "huge.pt": /file is 1073741825 bytes, over the limit of 1073741824 bytes for a \.pt file/,
    };
    // Every reader: inspect on each file, the others on a few each.
    const cases: Case[] = [];
    const run = (args: string[], names: string, says: RegExp) => {
      // train gets a fresh run folder per case: the cases run side by side.
      const outDir = args[0] === "train" ? ["--out-dir", at(`run_${cases.length}`)] : [];
      cases.push({ args: [...args, ...outDir], names, says });
    };
    for (const [name, says] of Object.entries(overBudget)) {
      run(["inspect", at(name)], at(name), says);
    }
    for (const name of ["laughs.pt", "deep_dict.pt"]) {
      run(["inspect", "--json", at(name)], at(name), overBudget[name]);
    }
    for (
      const name of ["views.pt", "laughs.pt", "deep_list.pt", "selfloop.pt", "fifo.pt", "huge.pt"]
    ) {
      run(["train", "--resume", at(name)], at(name), overBudget[name]);
    }
    for (const name of ["stride0.pt", "urandom.pt"]) {
      run(["train", "--sft-model", at(name)], at(name), overBudget[name]);
    }
    for (const name of ["deep_tuple.pt", "zero.pt"]) {
      run(["eval", "--policy", at(name)], at(name), overBudget[name]);
    }
    // The SFT planner a checkpoint names is read with the same care.
    const device = /not a regular file \(a character device\)/;
    run(["train", "--resume", at("sft_zero.pt")], "/dev/zero", device);
    run(["eval", "--policy", at("sft_zero.pt")], "/dev/zero", device);
    run(["eval", "--policy", at("sft_fifo.pt")], at("fifo.pt"), /not a regular file \(a FIFO\)/);
    // --config
    run(["train", "--config", "/dev/zero"], "/dev/zero", device);
    run(["eval", "--config", "/dev/zero"], "/dev/zero", device);
    run(["train", "--config", at("zero.json")], at("zero.json"), device);
    run(["eval", "--config", at("fifo.json")], at("fifo.json"), /not a regular file \(a FIFO\)/);
    run(
      ["train", "--config", at("huge.json")],
      at("huge.json"),
      /file is 1048577 bytes, over the limit of 1048576 bytes for a config file/,
    );
    run(
      ["eval", "--config", at("deep.json")],
      at("deep.json"),
      /'env\.world_size' must be a number, got a list/,
    );
    await runCases(cases, dir);
  });
});

Deno.test("readBoundedFile: reads a regular file up to the limit, refuses one byte more", async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, "f.bin");
    Deno.writeFileSync(path, new Uint8Array(1000).fill(7));
    const opts = { maxBytes: 1000, what: "a test file" };
    assert.deepEqual(await readBoundedFile(path, opts), new Uint8Array(1000).fill(7));
    assert.deepEqual(readBoundedFileSync(path, opts), new Uint8Array(1000).fill(7));
    const tooBig = /^f\.bin: file is 1000 bytes, over the limit of 999 bytes for a test file$/;
    const small = { maxBytes: 999, what: "a test file" };
    const check = (e: unknown) => {
      assert.ok(e instanceof FileReadError && e.exitCode === 2);
      assert.match(e.message.replace(dir + "/", ""), tooBig);
      return true;
    };
    await assert.rejects(() => readBoundedFile(path, small), check);
    assert.throws(() => readBoundedFileSync(path, small), check);
    await assert.rejects(() => readBoundedFile(join(dir, "none"), opts), /file not found/);
    assert.throws(() => readBoundedFileSync(dir, opts), /is a folder/);
  });
});
