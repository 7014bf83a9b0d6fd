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
import { FileReadError } from "./limits.ts";
import {
  frameTfRecord,
  scanTfRecords,
  TFRECORD_HEADER_BYTES,
  TFRECORD_OVERHEAD,
  type TfRecordBudget,
  type TfRecordScan,
} from "./tfrecord.ts";
import {
  FIXED32,
  FIXED64,
  key,
  LEN,
  ProtoCursor,
  ProtoError,
  VARINT,
  varintSize,
  writeVarint,
} from "./_protobuf.ts";

/** Largest event file read (bytes): 1 GiB, about a million logging points of 40 scalars. */
export const MAX_EVENT_FILE_BYTES = 1024 * 1024 * 1024;
/** Largest record (one Event) read or written (bytes): 1 MiB, 20,000 scalars of 40-byte tags. */
export const MAX_EVENT_RECORD_BYTES = 1024 * 1024;
/** Most records read from one event file. */
export const MAX_EVENT_RECORDS = 10_000_000;
/** Most event files read from one folder (a resume reads them all). */
export const MAX_EVENT_FILES = 1000;
/** Longest tag (UTF-8 bytes), read or written. */
export const MAX_TAG_BYTES = 1024;
/** Most distinct tags read from one folder. */
export const MAX_EVENT_TAGS = 10_000;
/** Most values {@linkcode readEventFile} collects from one file. */
export const MAX_EVENT_VALUES = 10_000_000;

/** Budgets of the readers of this module. */
export interface EventFileBudget extends TfRecordBudget {
  /** Longest tag (UTF-8 bytes). */
  maxTagBytes: number;
  /** Most distinct tags in a folder. */
  maxTags: number;
  /** Most event files in a folder. */
  maxFiles: number;
  /** Most values collected from one file ({@linkcode readEventFile}). */
  maxValues: number;
}

/** The default budgets: the limits above. */
export const EVENT_FILE_BUDGET: Readonly<EventFileBudget> = Object.freeze({
  maxBytes: MAX_EVENT_FILE_BYTES,
  maxRecordBytes: MAX_EVENT_RECORD_BYTES,
  maxRecords: MAX_EVENT_RECORDS,
  maxTagBytes: MAX_TAG_BYTES,
  maxTags: MAX_EVENT_TAGS,
  maxFiles: MAX_EVENT_FILES,
  maxValues: MAX_EVENT_VALUES,
  what: "an event file",
});

/** `SessionLog.status` of a (re)start: TensorBoard purges points at and after its step. */
export const SESSION_LOG_START = 1;
/** `Event.file_version` of the first event of a file. */
export const EVENT_FILE_VERSION = "brain.Event:2";

/** One `Summary.Value`: its tag and `simple_value` (null when it holds another kind). */
export interface EventValue {
  tag: string;
  value: number | null;
}

/** The fields of one `Event` this module reads; others are skipped. */
export interface ScalarEvent {
  /** Seconds since the Unix epoch. */
  wallTime: number;
  step: number;
  /** Set on the first event of a file. */
  fileVersion?: string;
  /** `SessionLog.status`, on a session-log event ({@linkcode SESSION_LOG_START}). */
  sessionStatus?: number;
  /** The summary's values, in file order (empty without a summary). */
  values: EventValue[];
}

// ---------------------------------------------------------------------------------------
// Event encoding (field numbers of tensorboard/compat/proto/event.proto and summary.proto)

const EVENT_WALL_TIME = key(1, FIXED64); // double
const EVENT_STEP = key(2, VARINT); // int64
const EVENT_FILE_VERSION_KEY = key(3, LEN); // string
const EVENT_SUMMARY = key(5, LEN); // Summary
const EVENT_SESSION_LOG = key(7, LEN); // SessionLog
const SUMMARY_VALUE = key(1, LEN); // repeated Value
const VALUE_TAG = key(1, LEN); // string
const VALUE_SIMPLE = key(2, FIXED32); // float
const SESSION_LOG_STATUS = key(1, VARINT); // enum

const utf8 = new TextEncoder();

/**
 * The framed record of an Event with `wall_time`, `step` and one length-delimited field
 * (`fieldKey`) of `payloadLength` bytes that `writePayload` writes at the offset given.
 */
function eventRecord(
  wallTime: number,
  step: number,
  fieldKey: number,
  payloadLength: number,
  writePayload: (out: Uint8Array, at: number) => void,
): Uint8Array {
  const dataLength = 9 + 1 + varintSize(step) + 1 + varintSize(payloadLength) + payloadLength;
  if (dataLength > MAX_EVENT_RECORD_BYTES) {
    throw new RangeError(
      `an event of ${dataLength} bytes, over the limit of ${MAX_EVENT_RECORD_BYTES} bytes`,
    );
  }
  const record = new Uint8Array(dataLength + TFRECORD_OVERHEAD);
  const view = new DataView(record.buffer);
  let at = TFRECORD_HEADER_BYTES;
  record[at++] = EVENT_WALL_TIME;
  view.setFloat64(at, wallTime, true);
  at += 8;
  record[at++] = EVENT_STEP;
  at = writeVarint(record, at, step);
  record[at++] = fieldKey;
  at = writeVarint(record, at, payloadLength);
  writePayload(record, at);
  frameTfRecord(record, dataLength);
  return record;
}

function fileVersionRecord(wallTime: number): Uint8Array {
  const version = utf8.encode(EVENT_FILE_VERSION);
  return eventRecord(wallTime, 0, EVENT_FILE_VERSION_KEY, version.length, (out, at) => {
    out.set(version, at);
  });
}

function sessionStartRecord(wallTime: number, step: number): Uint8Array {
  return eventRecord(wallTime, step, EVENT_SESSION_LOG, 2, (out, at) => {
    out[at] = SESSION_LOG_STATUS;
    out[at + 1] = SESSION_LOG_START;
  });
}

// Value = tag (key, length, bytes) + simple_value (key, float32)
function valueLength(tag: Uint8Array): number {
  return 1 + varintSize(tag.length) + tag.length + 5;
}

function summaryRecord(
  wallTime: number,
  step: number,
  tags: Uint8Array[],
  values: number[],
): Uint8Array {
  let summaryLength = 0;
  for (const tag of tags) {
    const n = valueLength(tag);
    summaryLength += 1 + varintSize(n) + n;
  }
  return eventRecord(wallTime, step, EVENT_SUMMARY, summaryLength, (out, at) => {
    const view = new DataView(out.buffer);
    for (let i = 0; i < tags.length; i++) {
      const tag = tags[i];
      out[at++] = SUMMARY_VALUE;
      at = writeVarint(out, at, valueLength(tag));
      out[at++] = VALUE_TAG;
      at = writeVarint(out, at, tag.length);
      out.set(tag, at);
      at += tag.length;
      out[at++] = VALUE_SIMPLE;
      view.setFloat32(at, values[i], true); // NaN and ±Infinity stay what they are
      at += 4;
    }
  });
}

// ---------------------------------------------------------------------------------------
// Event decoding

const utf8Strict = new TextDecoder("utf-8", { fatal: true });

function text(c: ProtoCursor, what: string, maxBytes: number): string {
  const [start, end] = c.delimited();
  if (end - start > maxBytes) {
    throw new ProtoError(`a ${what} of ${end - start} bytes, over the limit of ${maxBytes}`);
  }
  try {
    return utf8Strict.decode(c.bytes.subarray(start, end));
  } catch {
    throw new ProtoError(`a ${what} that is not UTF-8`);
  }
}

function wrongWire(message: string, field: number, wire: number): ProtoError {
  return new ProtoError(`${message} field ${field} has wire type ${wire}`);
}

function decodeValue(c: ProtoCursor, maxTagBytes: number): EventValue {
  let tag: string | null = null;
  let value: number | null = null;
  while (c.more()) {
    const [field, wire] = c.key();
    if (field === 1) {
      if (wire !== LEN) throw wrongWire("Value", field, wire);
      tag = text(c, "tag", maxTagBytes);
    } else if (field === 2) {
      if (wire !== FIXED32) throw wrongWire("Value", field, wire);
      value = c.float();
    } else {
      c.skip(wire);
    }
  }
  if (tag === null) throw new ProtoError("a summary value without a tag");
  return { tag, value };
}

/**
 * Decodes the fields of an `Event` this module knows (wall time, step, file version,
 * session-log status, the summary's tags and simple values), skipping any other.
 * A malformed message is a `ProtoError`.
 */
function decodeEvent(data: Uint8Array, maxTagBytes: number): ScalarEvent {
  const c = new ProtoCursor(data);
  const event: ScalarEvent = { wallTime: 0, step: 0, values: [] };
  while (c.more()) {
    const [field, wire] = c.key();
    if (field === 1) {
      if (wire !== FIXED64) throw wrongWire("Event", field, wire);
      event.wallTime = c.double();
    } else if (field === 2) {
      if (wire !== VARINT) throw wrongWire("Event", field, wire);
      event.step = c.varint();
    } else if (field === 3) {
      if (wire !== LEN) throw wrongWire("Event", field, wire);
      event.fileVersion = text(c, "file version", maxTagBytes);
    } else if (field === 5) {
      if (wire !== LEN) throw wrongWire("Event", field, wire);
      const [start, end] = c.delimited();
      const summary = new ProtoCursor(data, start, end);
      while (summary.more()) {
        const [f, w] = summary.key();
        if (f !== 1) summary.skip(w);
        else if (w !== LEN) throw wrongWire("Summary", f, w);
        else {
          const [vs, ve] = summary.delimited();
          event.values.push(decodeValue(new ProtoCursor(data, vs, ve), maxTagBytes));
        }
      }
    } else if (field === 7) {
      if (wire !== LEN) throw wrongWire("Event", field, wire);
      const [start, end] = c.delimited();
      const log = new ProtoCursor(data, start, end);
      event.sessionStatus = 0;
      while (log.more()) {
        const [f, w] = log.key();
        if (f === 1 && w === VARINT) event.sessionStatus = log.varint();
        else log.skip(w);
      }
    } else {
      c.skip(wire);
    }
  }
  return event;
}

// ---------------------------------------------------------------------------------------
// Reading

/**
 * Event file names TensorBoard reads: containing "tfevents", not ending ".profile-empty".
 * (It takes a folder so named for a file: a run folder must not contain "tfevents".)
 *
 * @example
 * ```ts
 * isEventFileName("events.out.tfevents.1700000000.localhost"); // true
 * ```
 */
export function isEventFileName(name: string): boolean {
  return name.includes("tfevents") && !name.endsWith(".profile-empty");
}

/**
 * Reads the events of one file with `visit`, within `budget`; stops at a torn tail.
 * A malformed Event is a {@linkcode FileReadError} naming the file and the record.
 */
async function scanEvents(
  path: string,
  budget: EventFileBudget,
  visit: (event: ScalarEvent, framed: Uint8Array) => void | Promise<void>,
): Promise<TfRecordScan> {
  return await scanTfRecords(path, budget, (data, framed, index) => {
    let event: ScalarEvent;
    try {
      event = decodeEvent(data, budget.maxTagBytes);
    } catch (e) {
      if (!(e instanceof ProtoError)) throw e;
      throw new FileReadError(path, `record ${index + 1}: not a valid Event (${e.message})`);
    }
    return visit(event, framed);
  });
}

/** What {@linkcode readEventFile} read. */
export interface EventFileContents extends TfRecordScan {
  /** The events, in file order. */
  events: ScalarEvent[];
}

/**
 * Reads the event file at `path` within `budget` (default {@linkcode EVENT_FILE_BUDGET};
 * its `maxValues` bounds what is collected): every Event up to a torn tail, CRCs checked.
 *
 * @example
 * ```ts ignore
 * const { events, torn } = await readEventFile(writer.path);
 * ```
 */
export async function readEventFile(
  path: string,
  budget: EventFileBudget = EVENT_FILE_BUDGET,
): Promise<EventFileContents> {
  const events: ScalarEvent[] = [];
  let values = 0;
  const scan = await scanEvents(path, budget, (event) => {
    values += event.values.length + 1;
    if (values > budget.maxValues) {
      throw new FileReadError(path, `more than ${budget.maxValues} values, the limit read`);
    }
    events.push(event);
  });
  return { ...scan, events };
}

/** One file of {@linkcode EventDirSteps}. */
export interface EventFileSteps extends TfRecordScan {
  path: string;
  /** Largest step of an event with a summary or session log (-1 when none). */
  lastStep: number;
}

/** What {@linkcode lastEventSteps} found in a folder. */
export interface EventDirSteps {
  /** The event files, in the order TensorBoard reads them (sorted by name). */
  files: EventFileSteps[];
  /** Largest step written for each tag, over all the files. */
  lastStepByTag: Map<string, number>;
}

async function eventFilePaths(dir: string, budget: EventFileBudget): Promise<string[]> {
  const names: string[] = [];
  try {
    for await (const entry of Deno.readDir(dir)) {
      if (!entry.isFile || !isEventFileName(entry.name)) continue;
      if (names.length === budget.maxFiles) {
        throw new FileReadError(
          dir,
          `more than ${budget.maxFiles} event files, the limit read from one folder`,
        );
      }
      names.push(entry.name);
    }
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return [];
    throw e;
  }
  // TensorBoard reads a folder's files sorted by name (Python `sorted`, Rust `BTreeMap`)
  return names.sort(byCodePoint).map((name) => join(dir, name));
}

function byCodePoint(a: string, b: string): number {
  // code-point order, as Python's and Rust's string order (not UTF-16 units)
  const x = [...a].map((ch) => ch.codePointAt(0)!);
  const y = [...b].map((ch) => ch.codePointAt(0)!);
  for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return x[i] - y[i];
  return x.length - y.length;
}

/** Adds `event`'s tags to `lastStepByTag`, within the tag budget. */
function noteSteps(
  path: string,
  event: ScalarEvent,
  lastStepByTag: Map<string, number>,
  budget: EventFileBudget,
): void {
  for (const { tag } of event.values) {
    const last = lastStepByTag.get(tag);
    if (last === undefined && lastStepByTag.size >= budget.maxTags) {
      throw new FileReadError(path, `more than ${budget.maxTags} tags, the limit for a folder`);
    }
    if (last === undefined || event.step > last) lastStepByTag.set(tag, event.step);
  }
}

/**
 * The event files of `dir` and the largest step written for each tag, read with the
 * bounded reader (CRCs checked, torn tails skipped, `budget` default
 * {@linkcode EVENT_FILE_BUDGET}). A missing folder has no files.
 *
 * @example
 * ```ts ignore
 * const { lastStepByTag } = await lastEventSteps("out/run");
 * lastStepByTag.get("rollout/ep_rew_mean"); // 560
 * ```
 */
export async function lastEventSteps(
  dir: string,
  budget: EventFileBudget = EVENT_FILE_BUDGET,
): Promise<EventDirSteps> {
  return await scanEventDir(dir, budget, Number.MAX_SAFE_INTEGER);
}

/** {@linkcode lastEventSteps}, with `lastStepByTag` counting only steps <= `maxStep`. */
async function scanEventDir(
  dir: string,
  budget: EventFileBudget,
  maxStep: number,
): Promise<EventDirSteps> {
  const files: EventFileSteps[] = [];
  const lastStepByTag = new Map<string, number>();
  for (const path of await eventFilePaths(dir, budget)) {
    let lastStep = -1;
    const scan = await scanEvents(path, budget, (event) => {
      if (event.values.length > 0 || event.sessionStatus !== undefined) {
        lastStep = Math.max(lastStep, event.step);
      }
      if (event.step <= maxStep) noteSteps(path, event, lastStepByTag, budget);
    });
    files.push({ path, lastStep, ...scan });
  }
  return { files, lastStepByTag };
}

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
