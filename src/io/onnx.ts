/**
 * ONNX models as plain data, and their protobuf encoding (`onnx.proto`'s ModelProto,
 * GraphProto, NodeProto, AttributeProto, TensorProto, ValueInfoProto), written by hand:
 * only the fields a feed-forward graph of standard operators needs. Tensors are stored
 * as `raw_data` (little-endian, as ONNX specifies). Nothing here knows what the graph
 * computes; `onnx.checker` is the judge of the result (see `tests/onnx_export_test.ts`).
 *
 * @module
 */

import { ProtoWriter } from "./_protobuf.ts";

/** Element types a model of this writer uses. */
export type OnnxDtype = "float32" | "float64" | "int64";

// TensorProto.DataType
const DATA_TYPE: Readonly<Record<OnnxDtype, number>> = { float32: 1, int64: 7, float64: 11 };

/** An initializer: a named constant tensor. */
export interface OnnxTensor {
  name: string;
  dtype: OnnxDtype;
  /** Sizes, outermost first; `[]` for a scalar. */
  dims: readonly number[];
  /** Row-major elements; their count is the product of `dims`. */
  data: Float32Array | Float64Array | BigInt64Array;
  docString?: string;
}

/** A graph input or output: a name, an element type and a shape whose dims may be symbolic. */
export interface OnnxValueInfo {
  name: string;
  dtype: OnnxDtype;
  /** A number for a fixed size, a string for a symbolic one (e.g. "batch"). */
  shape: readonly (number | string)[];
  docString?: string;
}

/** An attribute value: int, float, string, or a list of ints. */
export type OnnxAttribute =
  | { int: number }
  | { float: number }
  | { string: string }
  | { ints: readonly number[] };

/** One operator application. */
export interface OnnxNode {
  opType: string;
  /** Tensor names; "" for an optional input left out. */
  inputs: readonly string[];
  outputs: readonly string[];
  name?: string;
  attributes?: Readonly<Record<string, OnnxAttribute>>;
  docString?: string;
}

/** A graph: nodes in topological order, their constants, inputs and outputs. */
export interface OnnxGraph {
  name: string;
  nodes: readonly OnnxNode[];
  initializers: readonly OnnxTensor[];
  inputs: readonly OnnxValueInfo[];
  outputs: readonly OnnxValueInfo[];
  docString?: string;
}

/** A whole model: the graph, the operator set it uses, who made it and what it is. */
export interface OnnxModel {
  graph: OnnxGraph;
  /** Version of the default ("ai.onnx") operator set. */
  opsetVersion: number;
  /** IR version of the file format (7 goes with opset 13). */
  irVersion: number;
  producerName: string;
  producerVersion: string;
  docString?: string;
  /** `metadata_props`: free key/value strings a runtime shows to users. */
  metadata?: Readonly<Record<string, string>>;
}

/**
 * The protobuf bytes of `model` (an `.onnx` file). Checks what the wire format cannot
 * (a tensor's element count against its dims, integer attributes); the graph's meaning
 * is not checked.
 *
 * @example
 * ```ts
 * const bytes = encodeOnnxModel({
 *   opsetVersion: 13,
 *   irVersion: 7,
 *   producerName: "example",
 *   producerVersion: "1",
 *   graph: {
 *     name: "relu",
 *     nodes: [{ opType: "Relu", inputs: ["x"], outputs: ["y"] }],
 *     initializers: [],
 *     inputs: [{ name: "x", dtype: "float32", shape: ["batch", 3] }],
 *     outputs: [{ name: "y", dtype: "float32", shape: ["batch", 3] }],
 *   },
 * });
 * ```
 */
export function encodeOnnxModel(model: OnnxModel): Uint8Array {
  // ModelProto
  const w = new ProtoWriter()
    .int64(1, model.irVersion)
    .string(2, model.producerName)
    .string(3, model.producerVersion);
  if (model.docString) w.string(6, model.docString);
  w.message(7, graphProto(model.graph));
  w.message(8, new ProtoWriter().string(1, "").int64(2, model.opsetVersion)); // OperatorSetIdProto
  for (const [key, value] of Object.entries(model.metadata ?? {})) {
    w.message(14, new ProtoWriter().string(1, key).string(2, value)); // StringStringEntryProto
  }
  return w.finish();
}

// GraphProto
function graphProto(graph: OnnxGraph): ProtoWriter {
  const w = new ProtoWriter();
  for (const node of graph.nodes) w.message(1, nodeProto(node));
  w.string(2, graph.name);
  for (const tensor of graph.initializers) w.message(5, tensorProto(tensor));
  if (graph.docString) w.string(10, graph.docString);
  for (const input of graph.inputs) w.message(11, valueInfoProto(input));
  for (const output of graph.outputs) w.message(12, valueInfoProto(output));
  return w;
}

// NodeProto
function nodeProto(node: OnnxNode): ProtoWriter {
  const w = new ProtoWriter();
  for (const input of node.inputs) w.string(1, input);
  for (const output of node.outputs) w.string(2, output);
  if (node.name) w.string(3, node.name);
  w.string(4, node.opType);
  for (const [name, value] of Object.entries(node.attributes ?? {})) {
    w.message(5, attributeProto(name, value));
  }
  if (node.docString) w.string(6, node.docString);
  return w;
}

// AttributeProto: the value's field, and its AttributeType (20)
function attributeProto(name: string, value: OnnxAttribute): ProtoWriter {
  const w = new ProtoWriter().string(1, name);
  const integer = (v: number) => {
    if (!Number.isSafeInteger(v)) {
      throw new RangeError(`onnx: attribute ${name}: ${v} is no integer`);
    }
    return v;
  };
  if ("int" in value) return w.int64(3, integer(value.int)).int64(20, 2);
  if ("float" in value) return w.float32(2, value.float).int64(20, 1);
  if ("string" in value) return w.string(4, value.string).int64(20, 3);
  for (const v of value.ints) w.int64(8, integer(v));
  return w.int64(20, 7);
}

// TensorProto, its elements as raw_data
function tensorProto(tensor: OnnxTensor): ProtoWriter {
  const count = tensor.dims.reduce((p, d) => p * d, 1);
  if (tensor.data.length !== count) {
    throw new RangeError(
      `onnx: tensor ${tensor.name}: dims [${
        tensor.dims.join(", ")
      }] need ${count} elements, got ${tensor.data.length}`,
    );
  }
  const w = new ProtoWriter();
  for (const d of tensor.dims) w.int64(1, d);
  w.int64(2, DATA_TYPE[tensor.dtype]);
  w.string(8, tensor.name);
  w.bytes(9, littleEndianBytes(tensor));
  if (tensor.docString) w.string(12, tensor.docString);
  return w;
}

function littleEndianBytes(tensor: OnnxTensor): Uint8Array {
  const { data, dtype } = tensor;
  const size = dtype === "float32" ? 4 : 8;
  const out = new Uint8Array(data.length * size);
  const view = new DataView(out.buffer);
  for (let i = 0; i < data.length; i++) {
    if (dtype === "float32") view.setFloat32(i * 4, data[i] as number, true);
    else if (dtype === "float64") view.setFloat64(i * 8, data[i] as number, true);
    else view.setBigInt64(i * 8, data[i] as bigint, true);
  }
  return out;
}

// ValueInfoProto{name, type: TypeProto{tensor_type: {elem_type, shape}}, doc_string}
function valueInfoProto(info: OnnxValueInfo): ProtoWriter {
  const shape = new ProtoWriter();
  for (const d of info.shape) {
    // TensorShapeProto.Dimension: dim_value (1) or dim_param (2)
    const dim = typeof d === "number"
      ? new ProtoWriter().int64(1, d)
      : new ProtoWriter().string(2, d);
    shape.message(1, dim);
  }
  const tensorType = new ProtoWriter().int64(1, DATA_TYPE[info.dtype]).message(2, shape);
  const w = new ProtoWriter().string(1, info.name).message(
    2,
    new ProtoWriter().message(1, tensorType),
  );
  if (info.docString) w.string(3, info.docString);
  return w;
}

/** Values and dims of a constant tensor, as a graph builder takes them. */
export interface OnnxTensorData {
  /** Dimensions. */
  dims: number[];
  /** Values, row-major. */
  data: ArrayLike<number>;
}

/**
 * Builds an ONNX graph node by node: inputs, constants (initializers) in the graph's float
 * type, and the few composite pieces a policy needs (a torch Linear, a clip, a reshape).
 *
 * @example
 * ```ts
 * const g = new GraphBuilder("float64");
 * const x = g.input({ name: "x", dtype: "float64", shape: ["batch", 2] });
 * g.clip(x, 1, "y");
 * g.nodes.length; // 1
 * ```
 */
// Nodes, constants and inputs of one graph, named as they are added.
export class GraphBuilder {
  readonly nodes: OnnxNode[] = [];
  readonly initializers: OnnxTensor[] = [];
  readonly inputs: OnnxValueInfo[] = [];
  readonly #dtype: "float32" | "float64";

  constructor(dtype: "float32" | "float64") {
    this.#dtype = dtype;
  }

  input(info: OnnxValueInfo): string {
    this.inputs.push(info);
    return info.name;
  }

  // A constant in the graph's float type (or int64); returns its name.
  constant(
    name: string,
    dims: number[],
    data: ArrayLike<number> | BigInt64Array,
    dtype?: OnnxDtype,
  ): string {
    const type = dtype ?? this.#dtype;
    const values = type === "int64"
      ? data as BigInt64Array
      : type === "float32"
      ? Float32Array.from(data as ArrayLike<number>)
      : Float64Array.from(data as ArrayLike<number>);
    this.initializers.push({ name, dtype: type, dims, data: values });
    return name;
  }

  // One node with one output named `output` (also the node's name).
  node(
    opType: string,
    inputs: string[],
    output: string,
    attributes?: OnnxNode["attributes"],
  ): string {
    this.nodes.push({
      opType,
      inputs,
      outputs: [output],
      name: output,
      ...(attributes ? { attributes } : {}),
    });
    return output;
  }

  // (B, in) -> (B, out) = x W^T + b, W [out, in] as torch stores it; its constants named
  // `output`.weight and `output`.bias.
  linear(
    x: string,
    opts: { weight: OnnxTensorData; bias: OnnxTensorData; output: string },
  ): string {
    const { weight, bias, output } = opts;
    const w = this.constant(`${output}.weight`, weight.dims, weight.data);
    const b = this.constant(`${output}.bias`, bias.dims, bias.data);
    return this.node("Gemm", [x, w, b], output, { transB: { int: 1 } });
  }

  // x clipped to ±bound (Clip's min and max are scalar inputs since opset 11).
  clip(x: string, bound: number, output: string): string {
    const lo = this.constant(`${output}.min`, [], [-bound]);
    const hi = this.constant(`${output}.max`, [], [bound]);
    return this.node("Clip", [x, lo, hi], output);
  }

  // (B, prod(shape)) -> (B, ...shape)
  reshape(x: string, shape: number[], output: string): string {
    const dims = this.constant(
      `${output}.shape`,
      [shape.length + 1],
      BigInt64Array.from([-1, ...shape].map(BigInt)),
      "int64",
    );
    return this.node("Reshape", [x, dims], output);
  }
}
