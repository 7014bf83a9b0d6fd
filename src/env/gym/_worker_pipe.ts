/**
 * The Gymnasium worker as a subprocess: spawning it, one request/reply round trip in
 * binary frames over its stdin/stdout, a deadline on every round trip, the last lines of
 * its stderr, and an end that leaves no process behind. What the frames mean is
 * `gym_vec_env.ts`'s business; this file knows only the 16-byte header.
 *
 * Header, little-endian: magic "DWGB" (u32), type (u8), version (u8), reserved (u16),
 * payload length (u32), sequence (u32; a reply repeats its request's).
 *
 * @module
 */

/** Bytes of a frame header; payloads start here, so their float64 arrays are aligned. */
export const HEADER_BYTES = 16;
/** "DWGB" read as a little-endian u32. */
export const MAGIC = 0x42475744;
/** Protocol version, in every header. */
export const VERSION = 1;

/** Message types: requests from this side, replies from the worker (high bit set). */
export const MSG = Object.freeze({
  hello: 1,
  reset: 2,
  step: 3,
  close: 4,
  ready: 0x81,
  obs: 0x82,
  stepped: 0x83,
  error: 0xff,
});

/** Writes a header at the start of `frame`. */
export function writeHeader(frame: DataView, kind: number, length: number, seq: number): void {
  frame.setUint32(0, MAGIC, true);
  frame.setUint8(4, kind);
  frame.setUint8(5, VERSION);
  frame.setUint16(6, 0, true);
  frame.setUint32(8, length, true);
  frame.setUint32(12, seq, true);
}

function u32(bytes: Uint8Array, at: number): number {
  return (bytes[at] | bytes[at + 1] << 8 | bytes[at + 2] << 16 | bytes[at + 3] << 24) >>> 0;
}

/** Why the worker stopped answering. */
export type LostReason = "exited" | "timeout" | "protocol";

/** Thrown by {@linkcode WorkerPipe.roundTrip} when the worker is gone; the caller words it. */
export class WorkerLost extends Error {
  /** Exit of the worker, killed or not; `detail` says more for a protocol fault. */
  constructor(
    readonly reason: LostReason,
    readonly status: Deno.CommandStatus | null,
    readonly stderrTail: readonly string[],
    readonly detail = "",
  ) {
    super(`worker lost: ${reason}`);
    this.name = "WorkerLost";
  }

  /** The worker's last stderr line, or a phrase saying there was none. */
  get lastLine(): string {
    return this.stderrTail.at(-1) ?? "(nothing on its stderr)";
  }

  /** "exited with code 3", "was killed by SIGKILL". */
  get exit(): string {
    const s = this.status;
    if (!s) return "did not exit";
    return s.signal ? `was killed by ${s.signal}` : `exited with code ${s.code}`;
  }
}

const STDERR_LINES = 40;
const STDERR_LINE_CHARS = 400;
const EXIT_GRACE_MS = 3000;
const STDERR_GRACE_MS = 1000;

/** Resolves to the promise's value, or `null` after `ms`. */
async function within<T>(promise: Promise<T>, ms: number): Promise<T | null> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<null>((resolve) => timer = setTimeout(() => resolve(null), ms));
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** Options of {@linkcode WorkerPipe.spawn}. */
export interface WorkerPipeOptions {
  /** Interpreter to run. */
  python: string;
  /** Arguments (the worker's source after `-u -c`). */
  args: string[];
  /** Extra environment variables of the subprocess. */
  env?: Record<string, string>;
  /** Deadline of each round trip. */
  timeoutMs: number;
}

/** One worker subprocess, spoken to one frame at a time. */
export class WorkerPipe {
  /** Process id of the worker. */
  readonly pid: number;
  /** Deadline of each round trip, in milliseconds. */
  readonly timeoutMs: number;
  /** The latest reply: its type, payload length, and the buffer holding the whole frame. */
  replyKind = 0;
  replyLength = 0;
  reply: Uint8Array;

  readonly #child: Deno.ChildProcess;
  readonly #writer: WritableStreamDefaultWriter<Uint8Array>;
  readonly #reader: ReadableStreamBYOBReader;
  readonly #stderrLines: string[] = [];
  readonly #stderrDone: Promise<void>;
  #stderrReader: ReadableStreamDefaultReader<Uint8Array> | null = null;
  /** Receive buffer; each read transfers it, so it is re-taken from the read's result. */
  #rx: ArrayBuffer;
  #deadline = Infinity;
  #timedOut = false;
  #watchdog: ReturnType<typeof setInterval>;
  #status: Deno.CommandStatus | null = null;
  #ended: Promise<void> | null = null;

  private constructor(child: Deno.ChildProcess, timeoutMs: number, capacity: number) {
    this.#child = child;
    this.pid = child.pid;
    this.timeoutMs = timeoutMs;
    this.#writer = child.stdin.getWriter();
    this.#reader = child.stdout.getReader({ mode: "byob" });
    this.#rx = new ArrayBuffer(Math.max(capacity, 4096));
    this.reply = new Uint8Array(this.#rx);
    this.#stderrDone = this.#keepStderr(child.stderr);
    child.status.then((s) => this.#status = s);
    // one timer for the life of the worker, not one per round trip
    const period = Math.min(500, Math.max(5, Math.floor(timeoutMs / 10)));
    this.#watchdog = setInterval(() => this.#checkDeadline(), period);
    Deno.unrefTimer(this.#watchdog as unknown as number);
  }

  /** Starts the worker; throws what `Deno.Command.spawn` throws (NotFound, PermissionDenied). */
  static spawn(opts: WorkerPipeOptions, capacity: number): WorkerPipe {
    const child = new Deno.Command(opts.python, {
      args: opts.args,
      env: opts.env,
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    return new WorkerPipe(child, opts.timeoutMs, capacity);
  }

  /** The worker's last stderr lines (at most 40), oldest first. */
  get stderrTail(): readonly string[] {
    return this.#stderrLines;
  }

  /**
   * Sends `frame`, waits for one reply within the deadline and leaves it in `reply`
   * (`replyKind`, `replyLength`). Throws {@linkcode WorkerLost} when the worker died, hung
   * (it is killed) or broke the protocol; the worker has ended by then.
   */
  async roundTrip(frame: Uint8Array, seq: number): Promise<void> {
    if (this.#ended) throw await this.#lost("exited");
    this.#deadline = performance.now() + this.timeoutMs;
    try {
      try {
        await this.#writer.write(frame);
      } catch {
        throw await this.#lost(this.#timedOut ? "timeout" : "exited");
      }
      if (!await this.#receive()) throw await this.#lost(this.#timedOut ? "timeout" : "exited");
    } finally {
      this.#deadline = Infinity;
    }
    const r = this.reply;
    const fault = u32(r, 0) !== MAGIC
      ? "bad magic"
      : r[5] !== VERSION
      ? `protocol version ${r[5]}, expected ${VERSION}`
      : u32(r, 12) !== seq
      ? `sequence ${u32(r, 12)}, expected ${seq}`
      : "";
    if (fault) throw await this.#lost("protocol", fault);
  }

  /** Sends a last frame if given, then ends the worker: never throws, idempotent. */
  end(lastFrame?: Uint8Array): Promise<void> {
    this.#ended ??= this.#end(lastFrame);
    return this.#ended;
  }

  /** Ends the worker and returns the {@linkcode WorkerLost} describing it. */
  async #lost(reason: LostReason, detail = ""): Promise<WorkerLost> {
    if (reason === "protocol") this.#kill();
    await this.end();
    return new WorkerLost(reason, this.#status, this.#stderrLines.slice(), detail);
  }

  async #end(lastFrame?: Uint8Array): Promise<void> {
    clearInterval(this.#watchdog);
    const child = this.#child;
    if (lastFrame && this.#status === null) {
      await within(this.#writer.write(lastFrame).catch(() => {}), EXIT_GRACE_MS);
    }
    // end of file on its stdin also ends the worker
    await within(this.#writer.close().catch(() => {}), EXIT_GRACE_MS);
    if (await within(child.status, EXIT_GRACE_MS) === null) {
      this.#kill();
      await child.status;
    }
    this.#status = await child.status;
    await this.#reader.cancel().catch(() => {});
    if (await within(this.#stderrDone, STDERR_GRACE_MS) === null) {
      // a grandchild of the worker may still hold its stderr open
      await this.#stderrReader?.cancel().catch(() => {});
      await this.#stderrDone;
    }
  }

  #kill(): void {
    try {
      this.#child.kill("SIGKILL");
    } catch {
      // already exited
    }
  }

  #checkDeadline(): void {
    if (performance.now() <= this.#deadline) return;
    this.#deadline = Infinity;
    this.#timedOut = true;
    this.#kill();
    // the pending read ends even if a grandchild holds the pipe open
    this.#reader.cancel().catch(() => {});
  }

  /** Reads one whole frame into `reply`; false at end of file. */
  async #receive(): Promise<boolean> {
    let got = 0, need = HEADER_BYTES, headerSeen = false;
    for (;;) {
      while (got < need) {
        if (need > this.#rx.byteLength) this.#grow(need, got);
        const view = new Uint8Array(this.#rx, got, this.#rx.byteLength - got);
        const { value, done } = await this.#reader.read(view, { min: need - got });
        this.#rx = value
          ? value.buffer as ArrayBuffer
          : new ArrayBuffer(this.#rx.byteLength || 4096);
        if (done || !value) return false;
        got += value.byteLength;
      }
      this.reply = new Uint8Array(this.#rx);
      if (headerSeen) return true;
      headerSeen = true;
      this.replyKind = this.reply[4];
      this.replyLength = u32(this.reply, 8);
      need = HEADER_BYTES + this.replyLength;
      if (got >= need) return true;
    }
  }

  #grow(bytes: number, keep: number): void {
    const bigger = new ArrayBuffer(Math.max(bytes, 2 * this.#rx.byteLength));
    new Uint8Array(bigger).set(new Uint8Array(this.#rx, 0, keep));
    this.#rx = bigger;
  }

  async #keepStderr(stream: ReadableStream<Uint8Array>): Promise<void> {
    const reader = stream.getReader();
    this.#stderrReader = reader;
    const decoder = new TextDecoder();
    let partial = "";
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        partial += decoder.decode(value, { stream: true });
        const lines = partial.split("\n");
        partial = lines.pop() ?? "";
        for (const line of lines) this.#keepLine(line);
        if (partial.length > 64 * STDERR_LINE_CHARS) partial = partial.slice(-STDERR_LINE_CHARS);
      }
    } catch {
      // cancelled
    }
    this.#keepLine(partial + decoder.decode());
  }

  #keepLine(line: string): void {
    const text = line.trim();
    if (!text) return;
    this.#stderrLines.push(
      text.length > STDERR_LINE_CHARS ? text.slice(0, STDERR_LINE_CHARS) + "..." : text,
    );
    if (this.#stderrLines.length > STDERR_LINES) this.#stderrLines.shift();
  }
}
