/**
 * Makes the Python the tests use: a venv in `.venv/` at the project root with the packages
 * of `tests/requirements.txt`. `deno task test` runs this first; a second run with the same
 * requirements does nothing. `DELTA_WAYPOINT_PYTHON` names the interpreter that makes the
 * venv (default `python3`). Where the machine keeps a local package index in
 * `/opt/pypi/simple`, pip reads it instead of the network.
 *
 * Exits 1 with one line when no Python or no package can be had: the tests that need it
 * would fail anyway, and CI must not pass without them.
 *
 * @module
 */

import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const VENV = join(ROOT, ".venv");
const MARKER = join(VENV, ".delta-waypoint-requirements");
const requirements = Deno.readTextFileSync(join(ROOT, "tests/requirements.txt"));

async function run(cmd: string, args: string[]): Promise<{ ok: boolean; text: string }> {
  try {
    const out = await new Deno.Command(cmd, { args, stdin: "null" }).output();
    const text = new TextDecoder().decode(out.stderr) + new TextDecoder().decode(out.stdout);
    return { ok: out.success, text };
  } catch (e) {
    return { ok: false, text: String(e) };
  }
}

function fail(line: string): never {
  console.error(`setup_python: ${line}`);
  Deno.exit(1);
}

const lastLine = (text: string) => text.trim().split("\n").at(-1) ?? "";

if (existsSync(MARKER) && Deno.readTextFileSync(MARKER) === requirements) Deno.exit(0);

const python = Deno.env.get("DELTA_WAYPOINT_PYTHON") ?? "python3";
const venvPython = join(VENV, "bin", "python");
if (!existsSync(venvPython)) {
  console.error(`setup_python: making ${VENV} with ${python}`);
  const made = await run(python, ["-m", "venv", VENV]);
  if (!made.ok) fail(`could not make a venv with ${python}: ${lastLine(made.text)}`);
}
const local = "/opt/pypi/simple";
const indexArgs = existsSync(local) ? ["--index-url", `file://${local}`] : [];
if (existsSync("/opt/pypi-more/simple")) {
  indexArgs.push("--extra-index-url", "file:///opt/pypi-more/simple");
}
console.error("setup_python: installing tests/requirements.txt (once; about a minute)");
const pip = await run(venvPython, [
  "-m",
  "pip",
  "install",
  "--disable-pip-version-check",
  "-q",
  ...indexArgs,
  "-r",
  join(ROOT, "tests/requirements.txt"),
]);
if (!pip.ok) fail(`pip install -r tests/requirements.txt failed: ${lastLine(pip.text)}`);
Deno.writeTextFileSync(MARKER, requirements);
