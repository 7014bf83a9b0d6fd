/** Test helpers: run the program as a user does, and read what it wrote. */

import { join } from "node:path";
import { fileURLToPath } from "node:url";

/** The project root (the folder holding main.ts). */
export const ROOT = fileURLToPath(new URL("../", import.meta.url));

/** Result of one CLI run. */
export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `deno run main.ts ...args` in `cwd` (default: the project root). */
export async function runCli(args: string[], opts: { cwd?: string } = {}): Promise<CliResult> {
  const cmd = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-read", "--allow-write", join(ROOT, "main.ts"), ...args],
    cwd: opts.cwd ?? ROOT,
    stdout: "piped",
    stderr: "piped",
    stdin: "null",
    env: { NO_COLOR: "1" },
  });
  const out = await cmd.output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

/** Reads a JSON file. */
export function readJson(path: string): unknown {
  return JSON.parse(Deno.readTextFileSync(path));
}

/** The smoke settings of the Python trainer's smoke test, as flags. */
export const SMOKE_FLAGS = [
  "--world-size",
  "50",
  "--horizon-steps",
  "5",
  "--waypoint-spacing",
  "5",
  "--max-episode-steps",
  "20",
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
