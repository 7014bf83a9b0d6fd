/**
 * The runner of the hostile-file tests: each case runs the real CLI in a child process
 * (`_peak_rss_main.ts`, which reports its peak memory) and must end with exit code 2 and
 * one line on stderr naming the file, no stack trace, a peak memory under 300 MB, and no
 * hang (a child still running after 20 s is killed, and that fails the case).
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { ROOT } from "./_helpers.ts";

const PEAK_RSS_LIMIT_KB = 300 * 1024;
const KILL_AFTER_MS = 20_000;

/** How a measured child ended. */
export interface Outcome {
  code: number;
  stderr: string;
  peakKb: number | null;
  killed: boolean;
}

/**
 * Runs the CLI with `args` in a child that reports its peak memory (kB, in `rssFile`);
 * killed after `killAfterMs` (default 20 s).
 */
export async function runMeasured(
  args: string[],
  rssFile: string,
  killAfterMs = KILL_AFTER_MS,
): Promise<Outcome> {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-all", // reading /proc/self/status needs it
      join(ROOT, "tests", "_peak_rss_main.ts"),
      ...args,
    ],
    cwd: ROOT,
    env: { NO_COLOR: "1", PEAK_RSS_FILE: rssFile },
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  let killed = false;
  const timer = setTimeout(() => {
    killed = true;
    child.kill("SIGKILL");
  }, killAfterMs);
  const out = await child.output();
  clearTimeout(timer);
  let peakKb: number | null = null;
  try {
    peakKb = Number(Deno.readTextFileSync(rssFile));
  } catch {
    // the child died before writing it
  }
  return { code: out.code, stderr: new TextDecoder().decode(out.stderr), peakKb, killed };
}

export interface Case {
  /** The CLI's arguments. */
  args: string[];
  /** The file the one error line must name. */
  names: string;
  /** How the line must begin, if more than "error: " is known. */
  startsWith?: string;
  /** What the line must say. */
  says: RegExp;
}

/**
 * Runs the cases, `opts.workers` (default 3) at a time, and checks each; all failures
 * are reported together. `dir` holds the children's peak-memory files.
 */
export async function runCases(
  cases: Case[],
  dir: string,
  opts: { workers?: number } = {},
): Promise<void> {
  const failures: string[] = [];
  let next = 0;
  const worker = async () => {
    while (next < cases.length) {
      const i = next++;
      const c = cases[i];
      const o = await runMeasured(c.args, join(dir, `rss-${i}.txt`));
      const lines = o.stderr.trimEnd().split("\n");
      const problems = [
        o.killed ? `still running after ${KILL_AFTER_MS / 1000} s (killed)` : "",
        o.code !== 2 ? `exit code ${o.code}, expected 2` : "",
        lines.length !== 1 ? `${lines.length} lines on stderr, expected 1` : "",
        !lines[0].startsWith("error: ") ? "stderr does not start with 'error: '" : "",
        !lines[0].includes(c.names) ? `the line does not name ${c.names}` : "",
        c.startsWith !== undefined && !lines[0].startsWith(c.startsWith)
          ? `the line does not begin with ${c.startsWith}`
          : "",
        !c.says.test(lines[0]) ? `the line does not match ${c.says}` : "",
        /^\s+at /m.test(o.stderr) ? "stack trace on stderr" : "",
        o.peakKb === null || !(o.peakKb < PEAK_RSS_LIMIT_KB)
          ? `peak RSS ${o.peakKb} kB, limit ${PEAK_RSS_LIMIT_KB} kB`
          : "",
      ].filter((p) => p !== "");
      if (problems.length > 0) {
        const shown = c.args.map((a) => a.replace(dir, "$TMP")).join(" ");
        failures.push(`${shown}: ${problems.join("; ")}\n  stderr: ${o.stderr.slice(0, 400)}`);
      }
    }
  };
  await Promise.all(Array.from({ length: opts.workers ?? 3 }, worker));
  assert.deepEqual(failures, [], failures.join("\n"));
}
