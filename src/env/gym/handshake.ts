/**
 * Starting the Gymnasium worker: the options, spawning `python -u -c <gym_worker.py>`, and
 * the handshake (HELLO with the id, modules, kwargs and N; READY with the shapes, Box
 * bounds, time limit and versions, or ERROR with one line). Every way it can fail before a
 * run is a one-line {@linkcode UserError} (exit 2).
 *
 * @module
 */

import type { Box } from "../contract.ts";
import { firstLine, UserError } from "../../errors.ts";
import { HEADER_BYTES, MSG, WorkerLost, WorkerPipe, writeHeader } from "./_worker_pipe.ts";

/** Default deadline of one round trip with the worker (handshake included). */
export const GYM_TIMEOUT_MS = 60_000;

/** Where the worker's source lives; `deno compile` needs `--include python/gym_worker.py`. */
export const GYM_WORKER_URL: URL = new URL("../../../python/gym_worker.py", import.meta.url);

/** Options of `GymVecEnv.start`. */
export interface GymVecEnvOptions {
  /** Python interpreter that has gymnasium (`--gym-python`). */
  python: string;
  /** Gymnasium env id, as `gymnasium.make` takes it ("Pendulum-v1", "highway-v0"). */
  id: string;
  /** N: copies, each its own `gymnasium.make`. */
  numEnvs: number;
  /** Modules imported before `gymnasium.make`, to register their envs (`--gym-module`). */
  modules?: readonly string[];
  /** Keyword arguments of `gymnasium.make` (`--gym-kwargs`; `max_episode_steps` included). */
  kwargs?: Record<string, unknown>;
  /** Deadline of each round trip in ms (default {@linkcode GYM_TIMEOUT_MS}). */
  timeoutMs?: number;
  /** Expose `success` from `info["is_success"]` (for envs that report it; default off). */
  success?: boolean;
  /** Extra environment variables of the worker (`PYTHONPATH`, ...). */
  env?: Record<string, string>;
}

/** What the worker's READY says, checked. */
export interface WorkerInfo {
  readonly observationShape: readonly number[];
  readonly actionShape: readonly number[];
  readonly observationSpace: Box;
  readonly actionSpace: Box;
  readonly maxEpisodeSteps: number;
  readonly versions: { readonly python: string; readonly gymnasium: string };
}

/** READY's JSON, as the worker writes it. */
interface Ready {
  python: string;
  gymnasium: string;
  obs_shape: unknown;
  act_shape: unknown;
  obs_low: unknown;
  obs_high: unknown;
  act_low: unknown;
  act_high: unknown;
  max_episode_steps: number | null;
}

const decoder = new TextDecoder();
const encoder = new TextEncoder();

function jsonPayload(pipe: WorkerPipe): unknown {
  const bytes = pipe.reply.subarray(HEADER_BYTES, HEADER_BYTES + pipe.replyLength);
  return JSON.parse(decoder.decode(bytes));
}

/** The one line of the worker's ERROR frame in `pipe.reply`. */
export function workerMessage(pipe: WorkerPipe): string {
  try {
    const message = (jsonPayload(pipe) as { message?: unknown }).message;
    if (typeof message === "string") return message.replace(/\s+/g, " ").trim();
  } catch {
    // fall through
  }
  return "the worker sent an unreadable ERROR frame";
}

function shape(value: unknown, what: string): number[] {
  if (!Array.isArray(value) || !value.every((x) => Number.isInteger(x) && x >= 0)) {
    throw new Error(`READY: ${what} is not a shape`);
  }
  return value;
}

/** Bounds arrive as numbers, and "inf", "-inf", "nan" where JSON has no number. */
function boxOf(low: unknown, high: unknown, dim: number, what: string): Box {
  const parse = (values: unknown, side: string) => {
    if (!Array.isArray(values) || values.length !== dim) {
      throw new Error(`READY: ${what} ${side} bound is not ${dim} numbers`);
    }
    return Float64Array.from(values, (v) => typeof v === "number" ? v : Number(v));
  };
  return { low: parse(low, "low"), high: parse(high, "high") };
}

const product = (dims: readonly number[]) => dims.reduce((a, b) => a * b, 1);

function infoOf(ready: Ready, label: string): WorkerInfo {
  if (ready.max_episode_steps === null || ready.max_episode_steps === undefined) {
    throw new UserError(
      `${label} has no time limit (spec.max_episode_steps is None): give one with ` +
        `--max-episode-steps 1000 or --gym-kwargs '{"max_episode_steps": 1000}'`,
    );
  }
  if (!Number.isInteger(ready.max_episode_steps) || ready.max_episode_steps < 1) {
    throw new UserError(`${label}: max_episode_steps ${ready.max_episode_steps} is not >= 1`);
  }
  const observationShape = Object.freeze(shape(ready.obs_shape, "obs_shape"));
  const actionShape = Object.freeze(shape(ready.act_shape, "act_shape"));
  const d = product(observationShape), a = product(actionShape);
  return {
    observationShape,
    actionShape,
    observationSpace: boxOf(ready.obs_low, ready.obs_high, d, "observation"),
    actionSpace: boxOf(ready.act_low, ready.act_high, a, "action"),
    maxEpisodeSteps: ready.max_episode_steps,
    versions: Object.freeze({ python: String(ready.python), gymnasium: String(ready.gymnasium) }),
  };
}

/**
 * Spawns the worker and makes its N envs; returns it with what READY said. Throws a
 * one-line {@linkcode UserError} (exit 2) when the Python, gymnasium, a module, the id,
 * the kwargs or a space will not do, with the worker ended.
 */
export async function startWorker(
  opts: GymVecEnvOptions,
): Promise<{ pipe: WorkerPipe; info: WorkerInfo }> {
  const n = opts.numEnvs;
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`numEnvs must be >= 1, got ${n}`);
  const timeoutMs = opts.timeoutMs ?? GYM_TIMEOUT_MS;
  if (!(timeoutMs > 0)) throw new RangeError(`timeoutMs must be > 0, got ${timeoutMs}`);
  if (
    opts.kwargs !== undefined && (typeof opts.kwargs !== "object" || opts.kwargs === null ||
      Array.isArray(opts.kwargs))
  ) {
    throw new UserError(
      `--gym-kwargs: expected a JSON object, got ${JSON.stringify(opts.kwargs)}`,
    );
  }
  const label = `gym:${opts.id}`;
  let source: string;
  try {
    source = await Deno.readTextFile(GYM_WORKER_URL);
  } catch (e) {
    throw new Error(
      `the Gymnasium worker ${GYM_WORKER_URL.pathname} cannot be read (${firstLine(e)}); ` +
        "a compiled binary needs --include python/gym_worker.py",
    );
  }
  let pipe: WorkerPipe;
  try {
    pipe = WorkerPipe.spawn(
      { python: opts.python, args: ["-u", "-c", source], env: opts.env, timeoutMs },
      4096,
    );
  } catch (e) {
    const why = e instanceof Deno.errors.NotFound
      ? "no such file"
      : e instanceof Deno.errors.PermissionDenied
      ? "not executable (or --allow-run does not cover it)"
      : `cannot be started (${firstLine(e)})`;
    throw new UserError(`--gym-python ${opts.python}: ${why}`);
  }

  const hello = encoder.encode(JSON.stringify({
    id: opts.id,
    modules: opts.modules ?? [],
    kwargs: opts.kwargs ?? {},
    num_envs: n,
  }));
  const frame = new Uint8Array(HEADER_BYTES + hello.length);
  frame.set(hello, HEADER_BYTES);
  writeHeader(new DataView(frame.buffer), MSG.hello, hello.length, 0);
  try {
    await pipe.roundTrip(frame, 0);
    if (pipe.replyKind === MSG.error) throw new UserError(workerMessage(pipe));
    if (pipe.replyKind !== MSG.ready) {
      throw new UserError(`${label}: the worker's handshake reply has type ${pipe.replyKind}`);
    }
    return { pipe, info: infoOf(jsonPayload(pipe) as Ready, label) };
  } catch (e) {
    await pipe.end();
    if (e instanceof WorkerLost) {
      throw new UserError(
        e.reason === "timeout"
          ? `${label}: the worker did not answer the handshake within ${timeoutMs} ms and was killed: ${e.lastLine}`
          : `--gym-python ${opts.python}: the worker ${e.exit} before the handshake: ${e.lastLine}`,
      );
    }
    if (e instanceof UserError) throw e;
    throw new UserError(`${label}: the worker's handshake is unreadable (${firstLine(e)})`);
  }
}
