// GAE against tests/fixtures/ppo/gae.json: segments crossing terminations,
// truncations (bootstrap from the final observation) and the segment end.

import assert from "node:assert/strict";
import { computeGae } from "../src/ppo/gae.ts";
import { readFixtureJson } from "./_helpers.ts";

interface GaeCase {
  name: string;
  gamma: number;
  lam: number;
  rewards: number[];
  values: number[];
  next_values: number[];
  terminated: number[];
  truncated: number[];
  advantages: number[];
  returns: number[];
}

function assertWithin(key: string, actual: Float64Array, expected: number[], tol: number): void {
  let worst = 0, worstAt = 0;
  for (let i = 0; i < expected.length; i++) {
    const err = Math.abs(actual[i] - expected[i]);
    if (err > worst) {
      worst = err;
      worstAt = i;
    }
  }
  assert.ok(
    worst <= tol,
    `${key}: worst error ${worst} at [${worstAt}]: got ${actual[worstAt]}, expected ${
      expected[worstAt]
    }`,
  );
}

for (const c of readFixtureJson<{ cases: GaeCase[] }>("ppo/gae.json").cases) {
  Deno.test(`gae fixture: ${c.name}`, () => {
    const n = c.rewards.length;
    const advantages = new Float64Array(n);
    const returns = new Float64Array(n);
    computeGae({
      rewards: Float64Array.from(c.rewards),
      values: Float64Array.from(c.values),
      nextValues: Float64Array.from(c.next_values),
      terminated: Uint8Array.from(c.terminated),
      truncated: Uint8Array.from(c.truncated),
      gamma: c.gamma,
      lam: c.lam,
      n,
      advantagesOut: advantages,
      returnsOut: returns,
    });
    assertWithin(`${c.name} advantages`, advantages, c.advantages, 1e-12);
    assertWithin(`${c.name} returns`, returns, c.returns, 1e-12);
  });
}

Deno.test("gae: a shorter n leaves the rest of the outputs alone and rejects short inputs", () => {
  const advantages = new Float64Array([7, 7, 7]);
  const returns = new Float64Array([7, 7, 7]);
  const opts = {
    rewards: new Float64Array([1, 1, 1]),
    values: new Float64Array(3),
    nextValues: new Float64Array(3),
    terminated: new Uint8Array([0, 1, 0]),
    truncated: new Uint8Array(3),
    gamma: 0.5,
    lam: 1,
    advantagesOut: advantages,
    returnsOut: returns,
  };
  computeGae({ ...opts, n: 2 });
  assert.deepEqual([...advantages], [1.5, 1, 7]);
  assert.deepEqual([...returns], [1.5, 1, 7]);
  assert.throws(() => computeGae({ ...opts, n: 4 }), /rewards holds 3 steps, need 4/);
});
