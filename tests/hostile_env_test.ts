/**
 * Files from strangers never run code: a checkpoint, a `config.json`, a `--config` file or a
 * run folder that names an env module, a `gym:` id with a `--gym-module`, or a Python
 * interpreter causes no import and no process by itself. `eval`, `--resume`, `export`,
 * `train --config` and a cluster task refuse it in one line with exit 2 where the command
 * line did not name the same; `report` and `aggregate` read what the files say without
 * loading anything. The module, the package and the interpreter would each write a marker.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { jsonToPt, PtDict, readPt, writePt } from "../src/io/mod.ts";
import { runCli, withTempDir } from "./_helpers.ts";
import { testPython } from "./_python.ts";

const cli = (args: string[], env: Record<string, string>) => runCli(args, { allowRun: true, env });

// The module, the Python package and the interpreter, each leaving a marker when run.
function plantMarkers(dir: string): { module: string; interpreter: string; markers: string[] } {
  const markers = ["module", "package", "interpreter"].map((m) => join(dir, `ran_${m}`));
  const module = join(dir, "evil_env.ts");
  Deno.writeTextFileSync(
    module,
    `Deno.writeTextFileSync(${JSON.stringify(markers[0])}, "x");\nexport default {};\n`,
  );
  Deno.mkdirSync(join(dir, "evilpkg"));
  Deno.writeTextFileSync(
    join(dir, "evilpkg", "__init__.py"),
    `open(${JSON.stringify(markers[1])}, "w").write("x")\n`,
  );
  const interpreter = join(dir, "evil_python.sh");
  Deno.writeTextFileSync(
    interpreter,
    `#!/bin/sh\necho x > '${markers[2]}'\nexec '${testPython()}' "$@"\n`,
  );
  Deno.chmodSync(interpreter, 0o755);
  return { module, interpreter, markers };
}

// A copy of checkpoint `from` at `to` with `keys` set at its top level.
async function rewrite(from: string, to: string, keys: Record<string, unknown>): Promise<void> {
  const root = await readPt(from) as PtDict;
  for (const [k, v] of Object.entries(keys)) root.set(k, jsonToPt(v));
  await writePt(to, root);
}

Deno.test("checkpoints, configs and run folders naming code never load or start it", async () => {
  await withTempDir(async (dir) => {
    const { module, interpreter, markers } = plantMarkers(dir);
    const env = { PYTHONPATH: dir }; // where the package would be found
    const run = join(dir, "run");
    const tiny = "--env mountain_car --episodes 4 --num-envs 2 --max-episode-steps 20 " +
      "--hidden-dim 8 --eval-interval 2 --save-interval 2 --eval-episodes 1 --heldout-episodes 1";
    const trained = await cli(["train", ...tiny.split(" "), "--out-dir", run, "--quiet"], env);
    assert.equal(trained.code, 0, trained.stderr);
    const final = join(run, "final.pt");
    const gymSection = {
      id: "Pendulum-v1",
      kwargs: {},
      modules: ["evilpkg"],
      max_episode_steps: 20,
    };
    const byModule = join(dir, "by_module.pt"), byUrl = join(dir, "by_url.pt");
    const byGym = join(dir, "by_gym.pt");
    await rewrite(final, byModule, { env_name: module });
    await rewrite(final, byUrl, { env_name: pathToFileURL(module).href });
    await rewrite(final, byGym, {
      env_name: "gym:Pendulum-v1",
      env_cfg: gymSection,
      gym_python: interpreter,
    });
    const moduleConfig = join(dir, "module_config.json"), gymConfig = join(dir, "gym_config.json");
    Deno.writeTextFileSync(moduleConfig, JSON.stringify({ env_name: module, env: {} }));
    Deno.writeTextFileSync(
      gymConfig,
      JSON.stringify({
        env_name: "gym:Pendulum-v1",
        env: { ...gymSection, python: interpreter },
      }),
    );
    const out = join(dir, "out");
    const gym = ["--env", "gym:Pendulum-v1", "--gym-python", testPython()];
    const refused: Array<[string[], RegExp]> = [
      [["eval", "--policy", byModule], /trained on env '.*evil_env\.ts', which is not built in/],
      [["eval", "--policy", byUrl], /which is not built in/],
      [["train", "--resume", byModule, "--out-dir", out], /which is not built in/],
      [["export", "--policy", byModule, "--onnx", join(dir, "p.onnx")], /which is not built in/],
      [["eval", "--policy", byGym], /trained on env 'gym:Pendulum-v1', which is not built in/],
      [
        ["eval", ...gym, "--policy", byGym],
        /by_gym\.pt: env_cfg\.modules records \["evilpkg"\], the command line names \[\]/,
      ],
      [
        ["train", "--config", moduleConfig, "--out-dir", out],
        /'env_name' is ".*evil_env\.ts", the command line names "driving"/,
      ],
      [["train", "--config", gymConfig, "--out-dir", out], /the command line names "driving"/],
      [["train", ...gym, "--config", gymConfig, "--out-dir", out], /unknown key 'env\.python'/],
      [
        ["train", "--seeds", "1", "--task-index", "0", "--config", moduleConfig, "--out-dir", out],
        /the command line names "driving"/,
      ],
      [
        ["eval", "--env", "mountain_car", "--config", moduleConfig],
        /the command line names "mountain_car"/,
      ],
    ];
    for (const [args, pattern] of refused) {
      const r = await cli(args, env);
      const what = args.join(" ");
      assert.equal(r.code, 2, `${what}: ${r.stderr}`);
      const lines = r.stderr.trimEnd().split("\n");
      assert.equal(lines.length, 1, `${what}: ${r.stderr}`);
      assert.match(lines[0], pattern, what);
    }
    assert.throws(() => Deno.statSync(out), Deno.errors.NotFound);

    // A run folder (and a multi-seed folder) whose files name the module: report and
    // aggregate read them and load nothing.
    const seeds = join(dir, "seeds"), seed = join(seeds, "seed_1");
    Deno.mkdirSync(seeds);
    Deno.renameSync(run, seed);
    const config = JSON.parse(Deno.readTextFileSync(join(seed, "config.json")));
    Deno.writeTextFileSync(
      join(seed, "config.json"),
      JSON.stringify({ ...config, env_name: module }),
    );
    const record = JSON.parse(Deno.readTextFileSync(join(seed, "env.json")));
    Deno.writeTextFileSync(
      join(seed, "env.json"),
      JSON.stringify({ ...record, id: module, kind: "module", spec: module }),
    );
    assert.equal((await cli(["report", seed], env)).code, 0);
    const aggregated = await cli(["aggregate", seeds], env);
    assert.equal(aggregated.code, 0, aggregated.stderr);
    assert.equal((await cli(["report", seeds], env)).code, 0);

    for (const marker of markers) assert.throws(() => Deno.statSync(marker), Deno.errors.NotFound);
  });
});
