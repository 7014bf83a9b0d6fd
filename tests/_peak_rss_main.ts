/**
 * Runs the CLI as `main.ts` does, then writes this process's peak resident memory
 * (VmHWM, in kB, from /proc/self/status) to the file named by $PEAK_RSS_FILE, so that a
 * test can bound the memory of a child process without timing anything.
 *
 * Usage: `PEAK_RSS_FILE=/tmp/x deno run -A tests/_peak_rss_main.ts inspect file.pt` (Deno
 * lets only `--allow-all` read /proc/self/status).
 */

import { main } from "../main.ts";

const code = await main(Deno.args);
const status = Deno.readTextFileSync("/proc/self/status");
const peakKb = /^VmHWM:\s+(\d+) kB$/m.exec(status)?.[1] ?? "";
Deno.writeTextFileSync(Deno.env.get("PEAK_RSS_FILE")!, peakKb);
Deno.exit(code);
