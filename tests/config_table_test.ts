/**
 * One table per config: the flags of `train` and `sft`, `--config` files and the
 * validators (which checkpoints go through too) accept the same ranges, read from
 * the config's table.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { UserError } from "../src/errors.ts";
import type { AnyRow, ConfigTable, NumberRow } from "../src/config_table.ts";
import { tableRows } from "../src/config_table.ts";
import {
  DEFAULT_ENV_CONFIG,
  DRIVING_ENV,
  ENV_CONFIG_TABLE,
  validateEnvConfig,
} from "../src/env/mod.ts";
import {
  DEFAULT_PPO_CONFIG,
  GENERIC_PPO_DEFAULTS,
  PPO_CONFIG_TABLE,
  validatePpoConfig,
} from "../src/ppo/mod.ts";
import { DEFAULT_SFT_CONFIG, SFT_CONFIG_TABLE, validateSftConfig } from "../src/sft/mod.ts";
import { buildRunConfig, parseTrainArgs, trainHelp } from "../src/cli/train.ts";
import { runSft, sftHelp } from "../src/cli/sft.ts";
import { withTempDir } from "./_helpers.ts";

type Flagged = [key: string, row: NumberRow & { flag: string }];

function numericFlags<T>(table: ConfigTable<T>): Flagged[] {
  return tableRows(table).filter((r): r is Flagged =>
    r[1].flag !== undefined && (r[1].type === "int" || r[1].type === "float")
  );
}

// Values just outside a row's range: below (or at an exclusive) minimum, above the maximum.
function outside(row: NumberRow): number[] {
  const [lo, hi] = row.range;
  return [row.exclusiveMin ? lo : lo - 1, hi + 1];
}

function throwsNaming(f: () => unknown, pattern: RegExp): void {
  assert.throws(f, (e: unknown) => {
    assert.ok(e instanceof Error);
    assert.match(e.message, pattern);
    return true;
  });
}

function trainConfig(args: string[]) {
  return buildRunConfig(parseTrainArgs(args, DRIVING_ENV).values, DRIVING_ENV);
}

Deno.test("train: each flag and validatePpoConfig/validateEnvConfig refuse the same values", () => {
  const cases: Array<[Flagged[], string, (key: string, v: number) => void]> = [
    [
      numericFlags(PPO_CONFIG_TABLE),
      "ppo",
      (key, v) => validatePpoConfig({ ...DEFAULT_PPO_CONFIG, [key]: v }),
    ],
    [
      numericFlags(ENV_CONFIG_TABLE),
      "env",
      (key, v) => validateEnvConfig({ ...DEFAULT_ENV_CONFIG, [key]: v }),
    ],
  ];
  for (const [flags, section, validate] of cases) {
    assert.ok(flags.length >= 4, section);
    for (const [key, row] of flags) {
      for (const v of outside(row)) {
        throwsNaming(
          () => trainConfig([`--${row.flag}`, String(v)]),
          new RegExp(`^--${row.flag}: ${v} is out of range`),
        );
        throwsNaming(() => validate(key, v), new RegExp(`^${section}\\.${key}: expected`));
      }
      // the range's own ends pass both (the defaults with one key at an end may still
      // break a cross-key rule, whose message is not a range's)
      for (const v of row.range.slice(row.exclusiveMin ? 1 : 0)) {
        for (const f of [() => trainConfig([`--${row.flag}`, String(v)]), () => validate(key, v)]) {
          try {
            f();
          } catch (e) {
            assert.doesNotMatch(
              (e as Error).message,
              new RegExp(
                `\\b${key}: expected (an integer|a number|a finite number)|--${row.flag}:`,
              ),
            );
          }
        }
      }
      assert.match(
        trainHelp(DRIVING_ENV),
        // (a long help is wrapped onto the next lines; after a long flag it starts on the next)
        new RegExp(
          `--${row.flag} [A-Z]+\\s+${escape(row.help).replaceAll(" ", "\\s+")}\\s+\\(default `,
        ),
      );
    }
  }
});

Deno.test("sft: each flag and validateSftConfig refuse the same values; --heldout-episodes starts at 1", async () => {
  for (const [key, row] of numericFlags(SFT_CONFIG_TABLE)) {
    for (const v of outside(row)) {
      await assert.rejects(
        () => runSft([`--${row.flag}`, String(v)]),
        (e: unknown) => {
          assert.ok(e instanceof UserError);
          assert.match(e.message, new RegExp(`^--${row.flag}: ${v} is out of range`));
          return true;
        },
      );
      throwsNaming(
        () => validateSftConfig({ ...DEFAULT_SFT_CONFIG, [key]: v }),
        new RegExp(`^sft\\.${key}: expected`),
      );
    }
    for (const v of row.range.slice(row.exclusiveMin ? 1 : 0)) {
      validateSftConfig({ ...DEFAULT_SFT_CONFIG, [key]: v });
    }
    assert.match(
      sftHelp(DRIVING_ENV),
      new RegExp(`--${row.flag} [A-Z]+ +${escape(row.help)} \\(default `),
    );
  }
  await assert.rejects(() => runSft(["--heldout-episodes", "0"]), (e: unknown) => {
    assert.ok(e instanceof UserError);
    assert.equal(e.message, "--heldout-episodes: 0 is out of range (must be >= 1 and <= 1000000)");
    return true;
  });
  validateSftConfig({ ...DEFAULT_SFT_CONFIG, heldout_episodes: 1 });
});

Deno.test("train --config: a value outside the table's range is refused naming the key", () =>
  withTempDir((dir) => {
    const bad: Array<[object, RegExp]> = [
      [{ ppo: { num_envs: 4097 } }, /ppo\.num_envs: expected an integer in \[1, 4096\], got 4097/],
      [{ ppo: { lr: 0 } }, /ppo\.lr: expected a number in \(0, 1\], got 0/],
      [{ ppo: { norm_adv: 1 } }, /'ppo\.norm_adv' must be a boolean, got 1/],
      [{ env: { horizon_steps: 1001 } }, /env\.horizon_steps: expected an integer in \[1, 1000\]/],
      [{ env: { dt: 0 } }, /env\.dt: expected a finite number > 0, got 0/],
    ];
    for (const [body, pattern] of bad) {
      const path = join(dir, "c.json");
      Deno.writeTextFileSync(path, JSON.stringify(body));
      throwsNaming(() => trainConfig(["--config", path]), pattern);
    }
  }));

Deno.test("every row of every table has a help line and a default of its type", () => {
  const rows: Array<[string, AnyRow]> = [
    ...tableRows(ENV_CONFIG_TABLE),
    ...tableRows(PPO_CONFIG_TABLE),
    ...tableRows(SFT_CONFIG_TABLE),
  ];
  assert.equal(rows.length, 26 + 44 + 9);
  {
    for (const [key, row] of rows) {
      assert.ok(row.help.length > 0, key);
      const want = row.type === "bool" ? "boolean" : row.type === "string" ? null : "number";
      if (want) assert.equal(typeof row.default, want, key);
    }
  }
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

Deno.test("GENERIC_PPO_DEFAULTS: SB3's PPO defaults, valid, the new options on", () => {
  const g = GENERIC_PPO_DEFAULTS;
  validatePpoConfig(g);
  assert.deepEqual(
    [g.hidden_dim, g.lr, g.lr_schedule, g.steps_per_update, g.update_epochs, g.batch_size],
    [64, 3e-4, "constant", 2048, 10, 64],
  );
  assert.deepEqual([g.gamma, g.lam, g.clip_ratio, g.ent_coef, g.vf_coef, g.max_grad_norm], [
    0.99,
    0.95,
    0.2,
    0,
    0.5,
    0.5,
  ]);
  assert.deepEqual([g.init_log_std, g.weight_decay, g.norm_obs, g.norm_reward], [0, 0, true, true]);
  assert.ok(g.target_kl >= 1e9, "no KL early stop");
  // every new key is off in the default configuration
  const d = DEFAULT_PPO_CONFIG;
  assert.deepEqual(
    [d.total_steps, d.steps_per_update, d.lr_schedule, d.norm_obs, d.norm_reward],
    [0, 0, "constant", false, false],
  );
});
