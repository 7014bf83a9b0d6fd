/**
 * The Python of the tests: `.venv/bin/python`, made by `tests/setup_python.ts` (which
 * `deno task test` runs first). A test that needs it fails, never skips, when it is missing.
 *
 * @module
 */

import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** `.venv/bin/python` at the project root. */
export const TEST_PYTHON = join(
  dirname(fileURLToPath(import.meta.url)),
  "..",
  ".venv",
  "bin",
  "python",
);

/**
 * The venv's interpreter; throws (the test fails) when `tests/setup_python.ts` has not made it.
 *
 * @example
 * ```ts ignore
 * const python = testPython();
 * ```
 */
export function testPython(): string {
  try {
    Deno.statSync(TEST_PYTHON);
  } catch {
    throw new Error(
      `${TEST_PYTHON} is missing: run the tests with \`deno task test\`, which makes it (tests/setup_python.ts)`,
    );
  }
  return TEST_PYTHON;
}

/**
 * Runs `code` with the test Python; returns its stdout, throws with its stderr on failure.
 *
 * @example
 * ```ts ignore
 * const version = await runPython("import gymnasium; print(gymnasium.__version__)");
 * ```
 */
export async function runPython(code: string, args: string[] = []): Promise<string> {
  const out = await new Deno.Command(testPython(), { args: ["-c", code, ...args], stdin: "null" })
    .output();
  const text = new TextDecoder();
  if (!out.success) throw new Error(`python failed: ${text.decode(out.stderr)}`);
  return text.decode(out.stdout);
}
