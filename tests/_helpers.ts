/**
 * Test helpers: run the program as a user does, read what it wrote, find the shared
 * fixtures, and the small settings the tests share.
 */

import assert from "node:assert/strict";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { main } from "../main.ts";
import { DEFAULT_ENV_CONFIG, Driving, type EnvConfig, type VecEnv } from "../src/env/mod.ts";
import { type WaypointPlanner } from "../src/sft/mod.ts";
import { type EvalSummary, evaluatePolicy } from "../src/run/mod.ts";
import { PtDict, readPt, Tensor } from "../src/io/torch_pt.ts";
import type { PtValue } from "../src/io/torch_pt.ts";
import type { PpoLossConfig } from "../src/ppo/loss.ts";

/** The PPO loss coefficients of the defaults (`clip_ratio`, `vf_coef`, `ent_coef`, `max_grad_norm`). */
export const PPO_LOSS_DEFAULTS: Readonly<PpoLossConfig> = Object.freeze({
  clipRatio: 0.2,
  vfCoef: 0.5,
  entCoef: 0.01,
  maxGradNorm: 0.5,
});

/** The project root (the folder holding main.ts). */
export const ROOT = fileURLToPath(new URL("../", import.meta.url));

/** Result of one CLI run. */
export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs `cmd` (the program, then its arguments) in `cwd` (default: the project root) with
 * `env` added to the environment (NO_COLOR set), stdin closed; collects both outputs.
 */
export async function runCommand(
  cmd: string[],
  opts: { cwd?: string; env?: Record<string, string> } = {},
): Promise<CliResult> {
  const out = await new Deno.Command(cmd[0], {
    args: cmd.slice(1),
    cwd: opts.cwd ?? ROOT,
    env: { NO_COLOR: "1", ...opts.env },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

/**
 * Runs `deno run main.ts ...args` in `cwd` (default: the project root) with read and
 * write permissions, and run permission too with `allowRun` (as `deno task train`).
 */
export function runCli(
  args: string[],
  opts: { cwd?: string; env?: Record<string, string>; allowRun?: boolean } = {},
): Promise<CliResult> {
  const perms = ["--allow-read", "--allow-write", ...(opts.allowRun ? ["--allow-run"] : [])];
  return runCommand([Deno.execPath(), "run", ...perms, join(ROOT, "main.ts"), ...args], opts);
}

/**
 * Runs the CLI in this process (`main(args)`, as `deno run main.ts` calls it) and
 * collects what it wrote with `console.error`, line by line.
 */
export async function mainInProcess(args: string[]): Promise<{ code: number; lines: string[] }> {
  const lines: string[] = [];
  const original = console.error;
  console.error = (...parts: unknown[]) => lines.push(parts.join(" "));
  try {
    return { code: await main(args), lines };
  } finally {
    console.error = original;
  }
}

/** Reads a JSON file. */
export function readJson(path: string): unknown {
  return JSON.parse(Deno.readTextFileSync(path));
}

/** The environment part of the Python smoke test's settings, as flags. */
export const SMOKE_ENV_FLAGS = [
  "--world-size",
  "50",
  "--horizon-steps",
  "5",
  "--waypoint-spacing",
  "5",
  "--max-episode-steps",
  "20",
];

/** The environment of SMOKE_ENV_FLAGS, as a config. */
export const SMOKE_ENV: Readonly<EnvConfig> = Object.freeze({
  ...DEFAULT_ENV_CONFIG,
  world_size: 50,
  horizon_steps: 5,
  waypoint_spacing: 5,
  max_episode_steps: 20,
});

/** The smoke settings of the Python trainer's smoke test, as flags. */
export const SMOKE_FLAGS = [
  ...SMOKE_ENV_FLAGS,
  "--hidden-dim",
  "32",
  "--episodes",
  "10",
  "--update-epochs",
  "2",
  "--eval-interval",
  "5",
  "--save-interval",
  "10",
  "--heldout-episodes",
  "8",
  "--quiet",
];

/** A tiny `sft` run on the smoke environment, as flags. */
export const TINY_SFT_FLAGS = [
  ...SMOKE_ENV_FLAGS,
  "--episodes",
  "12",
  "--epochs",
  "3",
  "--hidden-dim",
  "8",
  "--heldout-episodes",
  "6",
];

/**
 * `flags` with the value of each flag of `overrides` replaced (every occurrence), or the
 * flag and its value appended where `flags` lacks it.
 */
export function withFlags(flags: string[], overrides: Record<string, string>): string[] {
  const out = [...flags];
  for (const [flag, value] of Object.entries(overrides)) {
    let found = false;
    out.forEach((f, i) => {
      if (f !== flag) return;
      if (i + 1 >= out.length || out[i + 1].startsWith("--")) {
        throw new Error(`withFlags: ${flag} has no value to replace`);
      }
      out[i + 1] = value;
      found = true;
    });
    if (!found) out.push(flag, value);
  }
  return out;
}

/**
 * Absolute path of `tests/fixtures/<relative>` (the PyTorch reference data, see
 * `tests/fixtures/README.md`); throws a clear error when it is missing.
 */
export function fixturePath(relative: string): string {
  const path = resolve(ROOT, "tests/fixtures", relative);
  try {
    Deno.statSync(path);
  } catch {
    throw new Error(`fixture ${path} is missing (see tests/fixtures/README.md)`);
  }
  return path;
}

/** Parses the JSON fixture `tests/fixtures/<relative>`. */
export function readFixtureJson<T>(relative: string): T {
  return JSON.parse(Deno.readTextFileSync(fixturePath(relative))) as T;
}

/** Makes a temporary folder, runs `fn` in it, and removes the folder whatever happens. */
export async function withTempDir<T>(
  fn: (dir: string) => Promise<T> | T,
  options?: Deno.MakeTempOptions,
): Promise<T> {
  const dir = await Deno.makeTempDir(options);
  try {
    return await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/**
 * The central difference (f(x + h) - f(x - h)) / 2h of `loss` in entry `i` of `data`, which
 * is set back to its value after.
 *
 * @example
 * ```ts
 * const x = new Float64Array([3]);
 * centralDifference(x, 0, 1e-3, () => x[0] * x[0]); // about 6
 * ```
 */
export function centralDifference(
  data: Float64Array | Float32Array,
  i: number,
  h: number,
  loss: () => number,
): number {
  const keep = data[i];
  data[i] = keep + h;
  const up = loss();
  data[i] = keep - h;
  const down = loss();
  data[i] = keep;
  return (up - down) / (2 * h);
}

/** Max over elements of |a − b| / max(|b|, floor), with the index. */
export function worstRelError(a: ArrayLike<number>, b: ArrayLike<number>, floor: number) {
  assert.equal(a.length, b.length);
  let worst = 0, at = -1;
  for (let i = 0; i < a.length; i++) {
    const err = Math.abs(a[i] - b[i]) / Math.max(Math.abs(b[i]), floor);
    if (!(err <= worst)) {
      worst = err;
      at = i;
    }
  }
  return { worst, at };
}

/** Snapshot of every file under `dir`: path -> bytes and mtime. */
export function snapshot(dir: string): Map<string, { bytes: Uint8Array; mtime: number }> {
  const out = new Map<string, { bytes: Uint8Array; mtime: number }>();
  const walk = (d: string) => {
    for (const e of Deno.readDirSync(d)) {
      const p = join(d, e.name);
      if (e.isDirectory) walk(p);
      else {out.set(p, {
          bytes: Deno.readFileSync(p),
          mtime: Deno.statSync(p).mtime?.getTime() ?? 0,
        });}
    }
  };
  walk(dir);
  return out;
}

/**
 * Closed-loop summary of a planner alone (no delta head) on seeds firstSeed.. (default
 * 2^30, the held-out range), each seed once.
 */
export function plannerSummary(
  env: EnvConfig,
  planner: WaypointPlanner,
  opts: { count: number; firstSeed?: number; numEnvs?: number },
): EvalSummary {
  return evaluatePolicy({
    makeEnv: drivingEnvs(env),
    planner,
    model: null,
    deltaClip: 0,
    firstSeed: opts.firstSeed ?? 2 ** 30,
    count: opts.count,
    numEnvs: opts.numEnvs,
  }).summary;
}

/** Waits (up to 30 s) for `path` to exist; otherwise kills `child` and throws. */
export async function waitFor(path: string, child: Deno.ChildProcess): Promise<void> {
  for (let i = 0; i < 600; i++) {
    try {
      Deno.statSync(path);
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  child.kill("SIGKILL");
  throw new Error(`${path} never appeared`);
}

/** The factory of N driving envs of `env`. */
export function drivingEnvs(env: EnvConfig): (n: number) => VecEnv {
  return (n) => new Driving(env, n);
}

/**
 * Every leaf of a `.pt` file by its path in the tree (`.key`, `[i]`): a tensor as its
 * dtype, shape and raw bytes, any other value as it is.
 */
export async function ptLeaves(path: string): Promise<Map<string, unknown>> {
  const out = new Map<string, unknown>();
  const walk = (v: PtValue, key: string) => {
    if (v instanceof Tensor) {
      out.set(key, { dtype: v.dtype, shape: v.shape, bytes: new Uint8Array(v.data.buffer) });
    } else if (v instanceof PtDict) { for (const [k, x] of v.entries()) walk(x, `${key}.${k}`); }
    else if (Array.isArray(v)) v.forEach((x, i) => walk(x, `${key}[${i}]`));
    else out.set(key, v);
  };
  walk(await readPt(path), "");
  return out;
}

/** The raw bytes of every tensor of a `.pt` file, by its path in the tree. */
export async function ptTensors(path: string): Promise<Map<string, Uint8Array>> {
  const out = new Map<string, Uint8Array>();
  for (const [key, v] of await ptLeaves(path)) {
    if (v !== null && typeof v === "object" && "bytes" in v) out.set(key, v.bytes as Uint8Array);
  }
  return out;
}

/**
 * `leaves` without what legitimately differs between a resumed run's checkpoint and an
 * uninterrupted one's: timestamps and the resume path (`cfg.resume`).
 */
export function resumeComparable(leaves: Map<string, unknown>): Map<string, unknown> {
  return new Map([...leaves].filter(([k]) => !k.includes(".timestamp") && k !== ".cfg.resume"));
}

/**
 * Asserts that the `delta_head` and `value_head` tensors of the checkpoints at `a` and `b`
 * hold the same numbers, naming the first that differs.
 */
export async function assertSameHeads(a: string, b: string): Promise<void> {
  const [x, y] = [await readPt(a), await readPt(b)] as PtDict[];
  for (const head of ["delta_head", "value_head"]) {
    for (const [k, t] of (x.get(head) as PtDict).entries()) {
      const u = (y.get(head) as PtDict).get(k) as Tensor;
      assert.deepEqual((t as Tensor).data, u.data, `${a} vs ${b}: ${head}.${k}`);
    }
  }
}

/**
 * Writes `dir/bin/delta-waypoint`, a shell script that runs `command` (e.g. `deno run ...
 * main.ts`) with its arguments, as an installed executable would be on a cluster node;
 * returns the `bin` folder to put first on PATH.
 */
export function writeCliShim(dir: string, command: string[]): string {
  const bin = join(dir, "bin");
  Deno.mkdirSync(bin);
  Deno.writeTextFileSync(
    join(bin, "delta-waypoint"),
    `#!/bin/sh\nexec ${command.map((a) => `'${a}'`).join(" ")} "$@"\n`,
    { mode: 0o755 },
  );
  return bin;
}
