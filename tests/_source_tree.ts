/**
 * src/ as the layout tests read it, parsed by Deno's own TypeScript parser (the lint
 * plugin API, `Deno.lint.runPlugin`, which `deno test` provides): each file's imports
 * (`import ... from`, `export ... from`, type-only ones included) and the length of each
 * function's body.
 */

import { dirname, join, relative, resolve } from "node:path";
import { ROOT } from "./_helpers.ts";

/** One function (declaration, expression, arrow or method) of a source file. */
export interface FunctionBody {
  /** Its name (a method's or property's key, a variable's), or "(anonymous)". */
  name: string;
  /** Line of the function's start (1-based). */
  line: number;
  /** Lines its body spans, from its `{` to its `}` (a concise arrow body: the expression's). */
  lines: number;
}

/** One `.ts` file under src/. */
export interface SourceFile {
  /** Path relative to src/, with forward slashes, e.g. "run/schedule.ts". */
  path: string;
  /** What it imports: node built-ins and npm as written, files as paths relative to src/. */
  imports: string[];
  /** Every function in it, nested ones included. */
  functions: FunctionBody[];
}

/** Every `.ts` file under src/ (subfolders included), in path order. */
export function readSourceTree(): SourceFile[] {
  const src = join(ROOT, "src");
  const walk = (rel: string): string[] =>
    [...Deno.readDirSync(join(src, rel))].flatMap((e) => {
      const path = rel === "" ? e.name : `${rel}/${e.name}`;
      return e.isDirectory ? walk(path) : e.name.endsWith(".ts") ? [path] : [];
    });
  return walk("").sort().map((path) => parse(path, Deno.readTextFileSync(join(src, path))));
}

type FunctionNode =
  | Deno.lint.FunctionDeclaration
  | Deno.lint.FunctionExpression
  | Deno.lint.ArrowFunctionExpression;

function parse(path: string, text: string): SourceFile {
  const lineStarts = [0];
  for (let i = 0; i < text.length; i++) if (text[i] === "\n") lineStarts.push(i + 1);
  const lineOf = (offset: number): number => {
    let lo = 0, hi = lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (lineStarts[mid] <= offset) lo = mid;
      else hi = mid - 1;
    }
    return lo + 1;
  };
  const specifiers: string[] = [];
  const functions: FunctionBody[] = [];
  const plugin: Deno.lint.Plugin = {
    name: "layout",
    rules: {
      read: {
        create: (context) => ({
          ImportDeclaration: (node) => void specifiers.push(node.source.value),
          ExportAllDeclaration: (node) => void specifiers.push(node.source.value),
          ExportNamedDeclaration: (node) => {
            if (node.source) specifiers.push(node.source.value);
          },
          "FunctionDeclaration, FunctionExpression, ArrowFunctionExpression": (
            node: FunctionNode,
          ) => {
            if (node.body === null || node.body === undefined) return; // an overload
            const [start, end] = node.body.range;
            functions.push({
              name: functionName(node, context.sourceCode.getAncestors(node).at(-1)),
              line: lineOf(node.range[0]),
              lines: lineOf(end - 1) - lineOf(start) + 1,
            });
          },
        }),
      },
    },
  };
  Deno.lint.runPlugin(plugin, path, text);
  const imports = specifiers.map((spec) =>
    spec.startsWith(".")
      ? relative(join(ROOT, "src"), resolve(join(ROOT, "src"), dirname(path), spec))
        .replaceAll("\\", "/")
      : spec
  );
  return { path, imports, functions };
}

function functionName(node: FunctionNode, parent: Deno.lint.Node | undefined): string {
  if (node.type !== "ArrowFunctionExpression" && node.id) return node.id.name;
  const key = parent && "key" in parent ? parent.key : parent && "id" in parent ? parent.id : null;
  return key && typeof key === "object" && "name" in key && typeof key.name === "string"
    ? key.name
    : "(anonymous)";
}
