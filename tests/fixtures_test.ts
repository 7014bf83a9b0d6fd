// The PyTorch reference data in tests/fixtures/ is what PyTorch computes from the inputs
// recorded in it: regenerate.py --check recomputes every expected value (the PPO step,
// GAE, the tensors of the .pt files) with the test venv's torch and compares.
import assert from "node:assert/strict";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { testPython } from "./_python.ts";

const SCRIPT = join(dirname(fileURLToPath(import.meta.url)), "fixtures", "regenerate.py");

Deno.test("tests/fixtures agree with PyTorch (regenerate.py --check)", async () => {
  const out = await new Deno.Command(testPython(), { args: [SCRIPT, "--check"], stdin: "null" })
    .output();
  const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
  assert.ok(out.success, text);
  assert.match(text, /^0 differences \(torch /m);
});
