/**
 * A bounded reader of TensorBoard scalar event files (the ones `tfevents.ts` writes, and
 * any other): the events of a file, and the last step of each tag in a run folder. Every
 * read is within a budget of bytes, records, tags and files; a torn last record ends a
 * file, a malformed one is a `FileReadError`.
 *
 * @module
 */

import { join } from "node:path";
import { FileReadError } from "./limits.ts";
import { scanTfRecords, type TfRecordBudget, type TfRecordScan } from "./tfrecord.ts";
import { ProtoError } from "./_protobuf.ts";
import { decodeEvent, MAX_EVENT_RECORD_BYTES, type ScalarEvent } from "./_event_proto.ts";

export { MAX_EVENT_RECORD_BYTES };

/** Largest event file read (bytes): 1 GiB, about a million logging points of 40 scalars. */
export const MAX_EVENT_FILE_BYTES = 1024 * 1024 * 1024;
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
export async function scanEvents(
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

export async function eventFilePaths(dir: string, budget: EventFileBudget): Promise<string[]> {
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

export function byCodePoint(a: string, b: string): number {
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
export async function scanEventDir(
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
