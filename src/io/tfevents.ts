/**
 * TensorBoard scalar event files: the writer a run logs its scalars with, a bounded
 * reader of the files it writes, and the resume of a run folder that already holds some.
 * The format's facts are in `docs/formats/tensorboard_events.md`; TensorBoard's own
 * reader checks this module in `tests/tfevents_test.ts`.
 *
 * A file is `events.out.tfevents.<unix seconds>.<host>[.<suffix>]`, a sequence of
 * TFRecords ({@linkcode frameTfRecord}), each one serialized `Event`: first
 * `{wall_time, step 0, file_version "brain.Event:2"}`, in a new run's file then a
 * `SessionLog START` at step 0, then one `{wall_time, step, summary {value {tag,
 * simple_value}...}}` per {@linkcode ScalarEventWriter.add}.
 *
 * Resume ({@linkcode ScalarEventWriter.resume}): a run resumed from the checkpoint of
 * step S keeps the points at steps <= S and drops the later ones, which the resumed run
 * computes again. TensorBoard's loaders differ (`docs/formats/tensorboard_events.md`):
 * its Python loaders drop the points at or after the step of a later `SessionLog
 * START`; RustBoard, the server's default, ignores SessionLog and drops a tag's later
 * points only when that tag is written again. So both are done: the older files of the
 * folder that hold later steps are rewritten without them (atomically, records copied
 * byte for byte), and the new file starts with a START at S + 1 for a TensorBoard that
 * had already loaded them. Each tag's steps must then grow: a step at or before the
 * tag's last written one is refused.
 *
 * @module
 */

import { basename, join } from "node:path";
import {
  byCodePoint,
  EVENT_FILE_BUDGET,
  type EventFileBudget,
  eventFilePaths,
  MAX_TAG_BYTES,
  scanEventDir,
  scanEvents,
} from "./tfevents_read.ts";
import { fileVersionRecord, sessionStartRecord, summaryRecord, utf8 } from "./_event_proto.ts";

export * from "./tfevents_read.ts";
export { EVENT_FILE_VERSION, SESSION_LOG_START } from "./_event_proto.ts";
export type { EventValue, ScalarEvent } from "./_event_proto.ts";

// ---------------------------------------------------------------------------------------
// Writing

/** Options of {@linkcode ScalarEventWriter.create}. */
export interface ScalarEventWriterOptions {
  /** Seconds since the Unix epoch, for each event's `wall_time` and the file name (default: the clock). */
  wallTime?: () => number;
  /** Appended to the file name after a dot, e.g. a worker's name. */
  suffix?: string;
}

/** Options of {@linkcode ScalarEventWriter.resume}. */
export interface ResumeEventsOptions extends ScalarEventWriterOptions {
  /** The step of the checkpoint the run resumes from: later points are dropped. */
  resumeStep: number;
  /** Budgets of reading the folder's files (default {@linkcode EVENT_FILE_BUDGET}). */
  budget?: EventFileBudget;
}

function clock(): number {
  return Date.now() / 1000;
}

/** The host for file names: `Deno.hostname()` when allowed (never prompts), else "localhost". */
function hostName(): string {
  try {
    if (Deno.permissions.querySync({ name: "sys", kind: "hostname" }).state === "granted") {
      const host = Deno.hostname().replace(/[^A-Za-z0-9._-]/g, "_");
      if (host !== "") return host;
    }
  } catch {
    // no permission API, or no host name: the default below
  }
  return "localhost";
}

const FILE_PREFIX = "events.out.tfevents.";

/**
 * A file name that sorts after every event file already in `dir` (TensorBoard reads
 * them in name order, and a resumed run's file must come last), at the clock's second
 * or, if an existing name is not before it, one second after the latest.
 */
function newFileName(existing: string[], seconds: number, tail: string): string {
  let name = `${FILE_PREFIX}${seconds}.${tail}`;
  const later = existing.filter((other) => byCodePoint(other, name) >= 0);
  if (later.length === 0) return name;
  for (const other of later) {
    const s = Number(other.slice(FILE_PREFIX.length).split(".")[0]);
    if (Number.isSafeInteger(s) && s >= seconds) seconds = s + 1;
  }
  name = `${FILE_PREFIX}${seconds}.${tail}`;
  return name;
}

/**
 * What a writer starts from: each tag's last step, and the step of the SessionLog START
 * written after the file version (none: no START; see {@linkcode ScalarEventWriter.create}).
 */
interface WriterStart {
  lastStepByTag: Map<string, number>;
  sessionStart?: number;
}

/**
 * Writes TensorBoard scalar events to a new file of a folder: {@linkcode add} encodes
 * one Event per call, {@linkcode flush} appends what was added to the file (the run calls
 * it after each metrics entry, so a killed run leaves a file readable up to its last
 * flush; a record torn by the kill is one TensorBoard skips). No `fsync`: a kill loses
 * nothing flushed, a power cut may.
 *
 * Steps are int64 in the file, here safe integers (up to 2^53); each tag's steps must
 * grow. Values are stored as float32; NaN and ±Infinity are written as they are.
 *
 * @example
 * ```ts
 * const dir = await Deno.makeTempDir();
 * const writer = await ScalarEventWriter.create(dir);
 * writer.add(1000, { "rollout/ep_rew_mean": -3.5, "train/approx_kl": 0.012 });
 * await writer.flush();
 * await writer.close();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export class ScalarEventWriter {
  /** The file written. */
  readonly path: string;
  readonly #file: Deno.FsFile;
  readonly #wallTime: () => number;
  readonly #lastStepByTag: Map<string, number>;
  // UTF-8 bytes of each tag seen, encoded once
  readonly #tagBytes = new Map<string, Uint8Array>();
  #pending: Uint8Array[] = [];
  #flushing: Promise<void> = Promise.resolve();
  #closed = false;
  #failed: unknown = null;

  private constructor(
    path: string,
    file: Deno.FsFile,
    wallTime: () => number,
    start: WriterStart & { now: number },
  ) {
    this.path = path;
    this.#file = file;
    this.#wallTime = wallTime;
    this.#lastStepByTag = start.lastStepByTag;
    this.#pending.push(fileVersionRecord(start.now));
    if (start.sessionStart !== undefined) {
      this.#pending.push(sessionStartRecord(start.now, start.sessionStart));
    }
  }

  /**
   * Opens a new event file in `dir` (made if missing) and writes its first events: the
   * file version and, in a folder without event files (a new run), a `SessionLog START`
   * at step 0 (the server's Python loader takes a run's first START as its start, and
   * only a later one, a resume's, as a restart). A folder that already holds event files
   * gets one more file, named to sort after them, without a START; for a resumed run
   * use {@linkcode ScalarEventWriter.resume}.
   */
  static async create(
    dir: string,
    opts: ScalarEventWriterOptions = {},
  ): Promise<ScalarEventWriter> {
    return await ScalarEventWriter.#open(dir, opts, { lastStepByTag: new Map() });
  }

  /**
   * Opens the event file of a run resumed from the checkpoint of step
   * `opts.resumeStep`, in the folder `dir` that holds the earlier files of the run.
   * Points at steps <= `resumeStep` are kept; later ones (logged after the checkpoint,
   * and to be logged again) are dropped: each earlier file holding some is rewritten
   * without them (atomically; a torn tail goes too), and the new file starts with a
   * `SessionLog START` at `resumeStep + 1`, which makes a TensorBoard that had already
   * loaded them drop them as well. A tag's steps must then exceed its last kept one.
   * The earlier files are read with the bounded reader (`opts.budget`): one that is
   * corrupt or over a budget is a {@linkcode FileReadError}, and nothing was changed.
   *
   * @example
   * ```ts ignore
   * const writer = await ScalarEventWriter.resume(runDir, { resumeStep: 500 });
   * ```
   */
  static async resume(dir: string, opts: ResumeEventsOptions): Promise<ScalarEventWriter> {
    const { resumeStep } = opts;
    if (!Number.isSafeInteger(resumeStep + 1) || resumeStep < 0) {
      throw new RangeError(`resumeStep must be an integer in [0, 2^53 - 1), got ${resumeStep}`);
    }
    const budget = opts.budget ?? EVENT_FILE_BUDGET;
    // every file is read (and checked) before any is changed
    const { files, lastStepByTag } = await scanEventDir(dir, budget, resumeStep);
    for (const file of files) {
      if (file.lastStep > resumeStep) await dropStepsAfter(file.path, resumeStep, budget);
    }
    return await ScalarEventWriter.#open(dir, opts, {
      lastStepByTag,
      sessionStart: resumeStep + 1,
    });
  }

  static async #open(
    dir: string,
    opts: ScalarEventWriterOptions,
    start: WriterStart,
  ): Promise<ScalarEventWriter> {
    const suffix = opts.suffix;
    if (suffix !== undefined && !/^[A-Za-z0-9._-]+$/.test(suffix)) {
      throw new RangeError(`suffix: letters, digits, '.', '_' and '-' only, got '${suffix}'`);
    }
    const wallTime = opts.wallTime ?? clock;
    await Deno.mkdir(dir, { recursive: true });
    const existing = (await eventFilePaths(dir, EVENT_FILE_BUDGET)).map((p) => basename(p));
    if (start.sessionStart === undefined && existing.length === 0) start.sessionStart = 0;
    const tail = hostName() + (suffix === undefined ? "" : `.${suffix}`);
    const now = wallTime();
    let seconds = Math.floor(now);
    for (let attempt = 0;; attempt++) {
      const name = newFileName(existing, seconds, tail);
      const path = join(dir, name);
      let file: Deno.FsFile;
      try {
        file = await Deno.open(path, { write: true, append: true, createNew: true });
      } catch (e) {
        if (!(e instanceof Deno.errors.AlreadyExists) || attempt === 100) throw e;
        existing.push(name);
        seconds = Number(name.slice(FILE_PREFIX.length).split(".")[0]) + 1;
        continue;
      }
      const writer = new ScalarEventWriter(path, file, wallTime, { ...start, now });
      try {
        await writer.flush();
      } catch (e) {
        file.close();
        throw e;
      }
      return writer;
    }
  }

  /** The last step written (or kept by a resume) for `tag`, if any. */
  lastStep(tag: string): number | undefined {
    return this.#lastStepByTag.get(tag);
  }

  /**
   * Adds one Event at `step` holding one value per entry of `scalars` (none: nothing
   * is added), written at the next {@linkcode flush}. Refused, with nothing added: a
   * step that is not a non-negative safe integer, or not after the last step of one of
   * the tags (RangeError); an empty, ill-formed or over-long tag (RangeError); a value
   * that is not a number (TypeError).
   */
  add(step: number, scalars: Readonly<Record<string, number>>): void {
    if (this.#closed) throw new Error(`${this.path}: add after close`);
    if (!Number.isSafeInteger(step) || step < 0) {
      throw new RangeError(`step must be a non-negative integer up to 2^53 - 1, got ${step}`);
    }
    const tags: Uint8Array[] = [];
    const values: number[] = [];
    for (const [tag, value] of Object.entries(scalars)) {
      if (typeof value !== "number") {
        throw new TypeError(`scalar '${tag}' must be a number, got ${typeof value}`);
      }
      const last = this.#lastStepByTag.get(tag);
      if (last !== undefined && step <= last) {
        throw new RangeError(`tag '${tag}': step ${step} is not after its last step ${last}`);
      }
      tags.push(this.#encodeTag(tag));
      values.push(value);
    }
    if (tags.length === 0) return;
    this.#pending.push(summaryRecord(this.#wallTime(), step, tags, values));
    for (const tag of Object.keys(scalars)) this.#lastStepByTag.set(tag, step);
  }

  #encodeTag(tag: string): Uint8Array {
    let bytes = this.#tagBytes.get(tag);
    if (bytes !== undefined) return bytes;
    if (tag === "" || !tag.isWellFormed()) {
      throw new RangeError(`tag '${tag}' must be a non-empty, well-formed string`);
    }
    bytes = utf8.encode(tag);
    if (bytes.length > MAX_TAG_BYTES) {
      throw new RangeError(
        `tag '${tag.slice(0, 40)}...' is ${bytes.length} bytes, over the limit of ${MAX_TAG_BYTES}`,
      );
    }
    this.#tagBytes.set(tag, bytes);
    return bytes;
  }

  /**
   * Appends the events added since the last flush to the file. After a failed write
   * the file may end in a partial record, so the writer refuses any further flush.
   */
  flush(): Promise<void> {
    const records = this.#pending;
    this.#pending = [];
    this.#flushing = this.#flushing.then(() => this.#write(records));
    return this.#flushing;
  }

  async #write(records: Uint8Array[]): Promise<void> {
    if (this.#failed !== null) {
      throw new Error(`${this.path}: an earlier write failed`, { cause: this.#failed });
    }
    if (records.length === 0) return;
    let length = 0;
    for (const r of records) length += r.length;
    const bytes = new Uint8Array(length);
    let at = 0;
    for (const r of records) {
      bytes.set(r, at);
      at += r.length;
    }
    try {
      for (let done = 0; done < bytes.length;) {
        done += await this.#file.write(bytes.subarray(done));
      }
    } catch (e) {
      this.#failed = e;
      throw e;
    }
  }

  /** Flushes, then closes the file; the writer takes nothing after. */
  async close(): Promise<void> {
    if (this.#closed) return;
    try {
      await this.flush();
    } finally {
      this.#closed = true;
      this.#file.close();
    }
  }
}

/**
 * Rewrites the event file at `path` without its events after `lastStep` (the file
 * version event stays) and without a torn tail, byte for byte otherwise. The new
 * content goes to a temporary file in the same folder, whose name TensorBoard ignores
 * (no "tfevents" in it), renamed over `path` when complete.
 */
async function dropStepsAfter(
  path: string,
  lastStep: number,
  budget: EventFileBudget,
): Promise<void> {
  const random = crypto.getRandomValues(new Uint32Array(2));
  const tmp = join(path, "..", `.resume-${Deno.pid}-${random[0].toString(36)}${random[1]}.tmp`);
  const out = await Deno.open(tmp, { write: true, createNew: true });
  try {
    const chunk = new Uint8Array(64 * 1024);
    let used = 0;
    const drain = async () => {
      for (let done = 0; done < used;) done += await out.write(chunk.subarray(done, used));
      used = 0;
    };
    await scanEvents(path, budget, async (event, framed) => {
      if (event.step > lastStep && event.fileVersion === undefined) return;
      for (let from = 0; from < framed.length;) {
        const take = Math.min(framed.length - from, chunk.length - used);
        chunk.set(framed.subarray(from, from + take), used);
        used += take;
        from += take;
        if (used === chunk.length) await drain();
      }
    });
    await drain();
    out.close();
    await Deno.rename(tmp, path);
  } catch (e) {
    try {
      out.close();
    } catch {
      // already closed
    }
    await Deno.remove(tmp).catch(() => {});
    throw e;
  }
}
