/**
 * The protobuf of TensorBoard's `Event`, as far as scalar event files need it: the framed
 * records a writer appends (file version, session start, a summary of scalars) and the
 * decoding of one record's Event, bounded and strict (field numbers of
 * tensorboard/compat/proto/event.proto and summary.proto).
 *
 * @module
 */

import { frameTfRecord, TFRECORD_HEADER_BYTES, TFRECORD_OVERHEAD } from "./tfrecord.ts";
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

/** Largest record (one Event) read or written (bytes): 1 MiB, 20,000 scalars of 40-byte tags. */
export const MAX_EVENT_RECORD_BYTES = 1024 * 1024;

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

export const utf8 = new TextEncoder();

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

export function fileVersionRecord(wallTime: number): Uint8Array {
  const version = utf8.encode(EVENT_FILE_VERSION);
  return eventRecord(wallTime, 0, EVENT_FILE_VERSION_KEY, version.length, (out, at) => {
    out.set(version, at);
  });
}

export function sessionStartRecord(wallTime: number, step: number): Uint8Array {
  return eventRecord(wallTime, step, EVENT_SESSION_LOG, 2, (out, at) => {
    out[at] = SESSION_LOG_STATUS;
    out[at + 1] = SESSION_LOG_START;
  });
}

// Value = tag (key, length, bytes) + simple_value (key, float32)
function valueLength(tag: Uint8Array): number {
  return 1 + varintSize(tag.length) + tag.length + 5;
}

export function summaryRecord(
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
export function decodeEvent(data: Uint8Array, maxTagBytes: number): ScalarEvent {
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
