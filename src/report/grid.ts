/**
 * Panels laid out in a grid as one standalone SVG document, under a title.
 *
 * @module
 */

import { escapeXml, FONT, renderPanel } from "./chart.ts";
import type { Panel } from "./chart.ts";

/** Options of {@linkcode renderChartGrid}. */
export interface GridOptions {
  /** Panels per row (default 2). */
  columns?: number;
  /** Width of one panel in SVG units (default 640). */
  panelWidth?: number;
  /** Height of one panel in SVG units (default 360). */
  panelHeight?: number;
  /** Space between columns, keeping one panel's right axis off the next one's left (default 28). */
  gap?: number;
  /** Heading above the grid. */
  title?: string;
  /** Smaller line under the heading. */
  subtitle?: string;
}

/**
 * Renders `panels` as a standalone SVG document, laid out in a grid.
 *
 * @example
 * ```ts
 * const svg = renderChartGrid([{ title: "kl", xLabel: "episode", yLabel: "kl", series: [] }], {
 *   title: "run_001",
 * });
 * svg.startsWith("<svg"); // true
 * ```
 */
export function renderChartGrid(panels: Panel[], options: GridOptions = {}): string {
  const columns = Math.max(1, options.columns ?? 2);
  const pw = options.panelWidth ?? 640, ph = options.panelHeight ?? 360, gap = options.gap ?? 28;
  const header = options.title ? (options.subtitle ? 58 : 40) : 0;
  const rows = Math.ceil(panels.length / columns);
  const width = columns * pw + (columns - 1) * gap, height = header + rows * ph + 8;
  const out = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="${FONT}">`,
    `<rect width="${width}" height="${height}" fill="#fff"/>`,
  ];
  if (options.title) {
    out.push(
      `<text x="12" y="28" font-size="18" font-weight="bold" fill="#111">${
        escapeXml(options.title)
      }</text>`,
    );
  }
  if (options.title && options.subtitle) {
    out.push(
      `<text x="12" y="48" font-size="12" fill="#555">${escapeXml(options.subtitle)}</text>`,
    );
  }
  panels.forEach((panel, i) => {
    const box = {
      x: (i % columns) * (pw + gap),
      y: header + Math.floor(i / columns) * ph,
      width: pw,
      height: ph,
    };
    out.push(renderPanel(panel, box));
  });
  out.push("</svg>");
  return out.join("\n");
}
