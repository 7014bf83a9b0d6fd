/**
 * Any Gymnasium env with Box spaces as a {@linkcode VecEnv}: N copies made by
 * `gymnasium.make` in a Python worker the project ships (`python/gym_worker.py`), stepped
 * in one round trip per vector step over binary frames of float64 arrays. The env's state
 * stays in Python; every episode starts from an explicit seed, so a run repeats.
 *
 * Payloads (after the 16-byte header of `_worker_pipe.ts`), float64 arrays first:
 * RESET f64 seeds[N], u8 mask[N] -> OBS f64 obs[N*D];
 * STEP f64 actions[N*A], u8 mask[N] -> STEPPED f64 obs[N*D], f64 rewards[N],
 * u8 terminated[N], u8 truncated[N], u8 success[N]. HELLO/READY (JSON) is the handshake,
 * ERROR (JSON) a one-line failure, CLOSE the end.
 *
 * @module
 */

import { type Box, EnvLostError, type VecEnv } from "../contract.ts";
import { UserError } from "../../errors.ts";
import { HEADER_BYTES, MSG, WorkerLost, type WorkerPipe, writeHeader } from "./_worker_pipe.ts";
import {
  GYM_TIMEOUT_MS,
  type GymVecEnvOptions,
  startWorker,
  type WorkerInfo,
  workerMessage,
} from "./handshake.ts";

/**
 * The worker stopped answering in the middle of a run: it exited, or it hung and was killed
 * after `timeoutMs`, or it broke the protocol. The message ends with its last stderr line.
 * Exit code 4 (`EXIT.ioFault`): the run's last complete checkpoint stands.
 *
 * @example
 * ```ts
 * const e = new GymWorkerError("gym:X-v0: the worker exited with code 1 during step 3: boom", "exited");
 * e.exitCode; // 4
 * ```
 */
export class GymWorkerError extends EnvLostError {
  /** What happened to the worker. */
  readonly reason: "exited" | "timeout" | "protocol";

  /** `message` is one line. */
  constructor(message: string, reason: "exited" | "timeout" | "protocol") {
    super(message);
    this.name = "GymWorkerError";
    this.reason = reason;
  }
}

/**
 * N copies of a Gymnasium env in a Python worker, as a {@linkcode VecEnv}. `reset` and
 * `step` return promises (one round trip each); the outputs are valid once they resolve.
 * Wrap it in `EpisodeStatistics` for the time limit, returns and auto-reset, as any env.
 *
 * @example
 * ```ts ignore
 * const venv = await GymVecEnv.start({ python: ".venv/bin/python", id: "Pendulum-v1", numEnvs: 4 });
 * try {
 *   await venv.reset([0, 1, 2, 3]);
 *   await venv.step(new Float64Array([0.5, -0.5, 2, 0]));
 *   console.log(venv.obs, venv.rewards);
 * } finally {
 *   await venv.close();
 * }
 * ```
 */
export class GymVecEnv implements VecEnv {
  /** The Gymnasium id. */
  readonly id: string;
  readonly numEnvs: number;
  readonly obsDim: number;
  readonly actionDim: number;
  /** The action Box's shape. */
  readonly actionShape: readonly number[];
  /** The observation Box's shape (observations arrive flattened, row-major). */
  readonly observationShape: readonly number[];
  readonly observationSpace: Box;
  readonly actionSpace: Box;
  /** `spec.max_episode_steps` of the made env (Gymnasium's `TimeLimit` also applies it). */
  readonly maxEpisodeSteps: number;
  readonly obs: Float64Array;
  readonly rewards: Float64Array;
  readonly terminated: Uint8Array;
  readonly truncated: Uint8Array;
  readonly success?: Uint8Array;
  /** Versions the worker reported. */
  readonly versions: { readonly python: string; readonly gymnasium: string };

  #pipe: WorkerPipe | null;
  // what starts the worker of a deferred env (its first reset), once
  #starting: Promise<WorkerPipe> | null = null;
  readonly #options: GymVecEnvOptions;
  readonly #timeoutMs: number;
  // requests, allocated once: header + payload in one buffer each
  readonly #resetFrame: Uint8Array;
  readonly #resetSeeds: Float64Array;
  readonly #resetMask: Uint8Array;
  readonly #stepFrame: Uint8Array;
  readonly #stepActions: Float64Array;
  readonly #stepMask: Uint8Array;
  readonly #closeFrame: Uint8Array;
  readonly #allRows: Uint8Array;
  readonly #successAll: Uint8Array;
  #seq = 0;
  #steps = 0;
  #pending = false;
  #failure: Error | null = null;
  #closed: Promise<void> | null = null;

  private constructor(pipe: WorkerPipe | null, opts: GymVecEnvOptions, info: WorkerInfo) {
    const n = opts.numEnvs;
    this.id = opts.id;
    this.numEnvs = n;
    this.#pipe = pipe;
    this.#options = opts;
    this.#timeoutMs = pipe?.timeoutMs ?? opts.timeoutMs ?? GYM_TIMEOUT_MS;
    this.observationShape = info.observationShape;
    this.actionShape = info.actionShape;
    const d = info.observationSpace.low.length, a = info.actionSpace.low.length;
    this.obsDim = d;
    this.actionDim = a;
    this.observationSpace = info.observationSpace;
    this.actionSpace = info.actionSpace;
    this.maxEpisodeSteps = info.maxEpisodeSteps;
    this.versions = info.versions;
    this.obs = new Float64Array(n * d);
    this.rewards = new Float64Array(n);
    this.terminated = new Uint8Array(n);
    this.truncated = new Uint8Array(n);
    this.#successAll = new Uint8Array(n);
    if (opts.success) this.success = this.#successAll;
    this.#allRows = new Uint8Array(n).fill(1);

    const resetBuf = new ArrayBuffer(HEADER_BYTES + 8 * n + n);
    writeHeader(new DataView(resetBuf), MSG.reset, 8 * n + n, 0);
    this.#resetFrame = new Uint8Array(resetBuf);
    this.#resetSeeds = new Float64Array(resetBuf, HEADER_BYTES, n);
    this.#resetMask = new Uint8Array(resetBuf, HEADER_BYTES + 8 * n, n);
    const stepBuf = new ArrayBuffer(HEADER_BYTES + 8 * n * a + n);
    writeHeader(new DataView(stepBuf), MSG.step, 8 * n * a + n, 0);
    this.#stepFrame = new Uint8Array(stepBuf);
    this.#stepActions = new Float64Array(stepBuf, HEADER_BYTES, n * a);
    this.#stepMask = new Uint8Array(stepBuf, HEADER_BYTES + 8 * n * a, n);
    const closeBuf = new ArrayBuffer(HEADER_BYTES);
    writeHeader(new DataView(closeBuf), MSG.close, 0, 0);
    this.#closeFrame = new Uint8Array(closeBuf);
  }

  /**
   * Starts the worker and makes the N envs. Throws a one-line {@linkcode UserError}
   * (exit 2) when the Python, gymnasium, a module, the id, the kwargs or a space will
   * not do; nothing else has happened by then.
   */
  static async start(opts: GymVecEnvOptions): Promise<GymVecEnv> {
    const { pipe, info } = await startWorker(opts);
    return new GymVecEnv(pipe, opts, info);
  }

  /**
   * A GymVecEnv whose worker starts at its first `reset`, its sizes and bounds taken from
   * `info` (what another worker of the same id, modules and kwargs said: a probe's).
   * Making one costs nothing, so a run can ask an env for its sizes without a process; a
   * worker that then reports other shapes is refused.
   */
  static deferred(opts: GymVecEnvOptions, info: WorkerInfo): GymVecEnv {
    if (!Number.isInteger(opts.numEnvs) || opts.numEnvs < 1) {
      throw new RangeError(`numEnvs must be >= 1, got ${opts.numEnvs}`);
    }
    return new GymVecEnv(null, opts, info);
  }

  /** Process id of the worker (-1 while a deferred env's worker has not started). */
  get pid(): number {
    return this.#pipe?.pid ?? -1;
  }

  /** The worker's last stderr lines (warnings, tracebacks), oldest first. */
  get stderrTail(): readonly string[] {
    return this.#pipe?.stderrTail ?? [];
  }

  /**
   * Starts copy i's episode with `env.reset(seed=seeds[i])` wherever `mask` is absent or 1;
   * seeds are integers >= 0.
   */
  async reset(seeds: ArrayLike<number>, mask?: Uint8Array): Promise<void> {
    const n = this.numEnvs;
    if (seeds.length !== n) throw new RangeError(`reset: expected ${n} seeds, got ${seeds.length}`);
    const rows = this.#rows(mask);
    for (let i = 0; i < n; i++) {
      if (rows[i] === 0) continue;
      const seed = seeds[i];
      if (!Number.isSafeInteger(seed) || seed < 0) {
        throw new RangeError(`reset: seed ${seed} of row ${i} is not an integer >= 0`);
      }
      this.#resetSeeds[i] = seed;
    }
    this.#resetMask.set(rows);
    await this.#roundTrip(this.#resetFrame, MSG.obs, 8 * n * this.obsDim, "reset");
    const d = this.obsDim, obs = this.obs;
    const f64 = new Float64Array(this.#pipe!.reply.buffer, HEADER_BYTES, n * d);
    for (let i = 0; i < n; i++) {
      if (rows[i] === 0) continue;
      for (let j = i * d, end = j + d; j < end; j++) obs[j] = f64[j];
    }
  }

  /**
   * Steps copy i with row i of `actions` (N, actionDim) wherever `mask` is absent or 1; the
   * worker clips each action into the action Box first.
   */
  async step(actions: Float64Array, mask?: Uint8Array): Promise<void> {
    const n = this.numEnvs, d = this.obsDim;
    if (actions.length !== n * this.actionDim) {
      throw new RangeError(
        `step: actions must be (${n}, ${this.actionDim}) = ${
          n * this.actionDim
        } numbers, got ${actions.length}`,
      );
    }
    const rows = this.#rows(mask);
    this.#stepActions.set(actions);
    this.#stepMask.set(rows);
    this.#steps++;
    await this.#roundTrip(this.#stepFrame, MSG.stepped, 8 * n * (d + 1) + 3 * n, "step");
    const buffer = this.#pipe!.reply.buffer;
    const f64 = new Float64Array(buffer, HEADER_BYTES, n * (d + 1));
    const u8 = this.#pipe!.reply;
    const flags = HEADER_BYTES + 8 * n * (d + 1);
    const obs = this.obs, rewards = this.rewards, terminated = this.terminated;
    const truncated = this.truncated, success = this.#successAll;
    for (let i = 0; i < n; i++) {
      if (rows[i] === 0) continue;
      for (let j = i * d, end = j + d; j < end; j++) obs[j] = f64[j];
      rewards[i] = f64[n * d + i];
      terminated[i] = u8[flags + i];
      truncated[i] = u8[flags + n + i];
      success[i] = u8[flags + 2 * n + i];
    }
  }

  /** Ends the worker (it closes its envs); never throws, idempotent. */
  close(): Promise<void> {
    this.#closed ??= this.#end();
    return this.#closed;
  }

  async #end(): Promise<void> {
    if (this.#starting) await this.#starting.catch(() => {});
    await this.#pipe?.end(this.#failure ? undefined : this.#closeFrame);
  }

  // The worker, started now for a deferred env; its shapes must be the probe's.
  async #worker(): Promise<WorkerPipe> {
    if (this.#pipe) return this.#pipe;
    this.#starting ??= startWorker(this.#options).then(async ({ pipe, info }) => {
      const same = (a: readonly number[], b: readonly number[]) => a.join() === b.join();
      if (
        !same(info.observationShape, this.observationShape) ||
        !same(info.actionShape, this.actionShape)
      ) {
        await pipe.end();
        throw new UserError(
          `gym:${this.id}: the worker's spaces are obs [${info.observationShape}], action [${info.actionShape}], not [${this.observationShape}], [${this.actionShape}] as before`,
        );
      }
      this.#pipe = pipe;
      return pipe;
    });
    return await this.#starting;
  }

  #rows(mask?: Uint8Array): Uint8Array {
    if (mask === undefined) return this.#allRows;
    if (mask.length !== this.numEnvs) {
      throw new RangeError(`mask must have ${this.numEnvs} entries, got ${mask.length}`);
    }
    return mask;
  }

  async #roundTrip(frame: Uint8Array, kind: number, length: number, what: string): Promise<void> {
    if (this.#failure) throw this.#failure;
    if (this.#closed) throw new Error(`GymVecEnv.${what}: the env is closed`);
    if (this.#pending) throw new Error(`GymVecEnv.${what}: the previous call has not resolved`);
    this.#pending = true;
    let pipe: WorkerPipe;
    try {
      pipe = await this.#worker();
    } catch (e) {
      this.#pending = false;
      this.#failure = e instanceof Error ? e : new Error(String(e));
      throw e;
    }
    const seq = this.#seq = (this.#seq + 1) >>> 0;
    frame[12] = seq & 0xff; // the header's sequence field, u32 little-endian
    frame[13] = (seq >>> 8) & 0xff;
    frame[14] = (seq >>> 16) & 0xff;
    frame[15] = seq >>> 24;
    try {
      await pipe.roundTrip(frame, seq);
      if (pipe.replyKind === MSG.error) throw new UserError(workerMessage(pipe));
      if (pipe.replyKind !== kind || pipe.replyLength !== length) {
        await pipe.end();
        throw new GymWorkerError(
          `gym:${this.id}: the worker's reply to ${
            this.#when(what)
          } has type ${pipe.replyKind} and ${pipe.replyLength} bytes, expected type ${kind} and ${length}`,
          "protocol",
        );
      }
    } catch (e) {
      this.#failure = this.#explain(e, `gym:${this.id}`, this.#when(what));
      await pipe.end();
      throw this.#failure;
    } finally {
      this.#pending = false;
    }
  }

  #when(what: string): string {
    return what === "step" ? `step ${this.#steps}` : `a reset (after step ${this.#steps})`;
  }

  #explain(e: unknown, label: string, when: string): Error {
    if (!(e instanceof WorkerLost)) return e instanceof Error ? e : new Error(String(e));
    if (this.#closed) return new Error(`GymVecEnv: closed during ${when}`);
    if (e.reason === "timeout") {
      return new GymWorkerError(
        `${label}: the worker did not answer ${when} within ${this.#timeoutMs} ms and was killed: ${e.lastLine}`,
        "timeout",
      );
    }
    if (e.reason === "protocol") {
      return new GymWorkerError(
        `${label}: the worker broke the protocol at ${when} (${e.detail}): ${e.lastLine}`,
        "protocol",
      );
    }
    return new GymWorkerError(
      `${label}: the worker ${e.exit} during ${when}: ${e.lastLine}`,
      "exited",
    );
  }
}
