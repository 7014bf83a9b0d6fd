/**
 * Encode / decode speed of a checkpoint shaped like the trainer's (~160 KB: two MLP
 * heads, Adam state for 11 parameters, a cfg dict).
 */

import { decodePt, encodePt, PtDict, PtTuple, Tensor } from "../src/io/torch_pt.ts";

function filled(shape: number[]): Tensor {
  const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
  for (let i = 0; i < data.length; i++) data[i] = Math.sin(i) * 0.1;
  return new Tensor("float32", shape, data);
}

function checkpoint(): PtDict {
  const hidden = 64, obs = 41, horizon = 20;
  const delta = new PtDict([
    ["log_std", filled([horizon, 2])],
    ["net.0.weight", filled([hidden, obs])],
    ["net.0.bias", filled([hidden])],
    ["net.2.weight", filled([hidden, hidden])],
    ["net.2.bias", filled([hidden])],
    ["net.4.weight", filled([2 * horizon, hidden])],
    ["net.4.bias", filled([2 * horizon])],
  ], true);
  const value = new PtDict([
    ["net.0.weight", filled([hidden, obs])],
    ["net.0.bias", filled([hidden])],
    ["net.2.weight", filled([1, hidden])],
    ["net.2.bias", filled([1])],
  ], true);
  const params = [...delta.values(), ...value.values()] as Tensor[];
  const state = new PtDict(params.map((p, i) => [
    i,
    new PtDict([
      ["step", filled([])],
      ["exp_avg", filled(p.shape)],
      ["exp_avg_sq", filled(p.shape)],
    ]),
  ]));
  const group = new PtDict([
    ["lr", 3e-4],
    ["betas", new PtTuple([0.9, 0.999])],
    ["eps", 1e-8],
    ["weight_decay", 1e-4],
    ["params", params.map((_, i) => i)],
  ]);
  return new PtDict([
    ["delta_head", delta],
    ["value_head", value],
    ["optimizer", new PtDict([["state", state], ["param_groups", [group]]])],
    ["cfg", new PtDict([["hidden_dim", hidden], ["gamma", 0.99], ["device", "cpu"]])],
  ]);
}

const tree = checkpoint();
const bytes = encodePt(tree, { archiveName: "bench" });

Deno.bench(`encodePt (${(bytes.length / 1024).toFixed(0)} KB)`, () => {
  encodePt(tree, { archiveName: "bench" });
});

Deno.bench(`decodePt (${(bytes.length / 1024).toFixed(0)} KB)`, () => {
  decodePt(bytes, { source: "bench.pt" });
});
