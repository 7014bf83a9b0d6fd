/**
 * A chart's legend: one item per labelled series (its line's swatch and label), in rows
 * that wrap within the panel's width.
 *
 * @module
 */

import { textWidth } from "./axes.ts";
import type { PanelBox, Series } from "./panel_spec.ts";
import { escapeXml } from "./_xml.ts";

// A legend item's label, naming the scale of its line when the panel has two.
function legendLabel(s: Series, twoScales: boolean): string {
  return twoScales ? `${s.label} (${s.axis === "right" ? "right" : "left"})` : s.label;
}

// Widths of the legend's items (swatch, label, space after), px.
function itemWidth(s: Series, twoScales: boolean): number {
  return 28 + textWidth(legendLabel(s, twoScales), 11) + 18;
}

/** Rows the legend of `series` takes within `o.width` px. */
export function legendRows(series: Series[], o: { width: number; twoScales: boolean }): number {
  let rows = 1, x = 0;
  for (const s of series) {
    if (s.label === "") continue;
    const w = itemWidth(s, o.twoScales);
    if (x > 0 && x + w - 18 > o.width) (rows++, x = 0);
    x += w;
  }
  return rows;
}

/** The legend of `series` from (`o.x0`, `o.y`), wrapping within the panel `o.box`. */
export function renderLegend(
  series: Series[],
  o: { x0: number; y: number; box: PanelBox; twoScales: boolean },
): string {
  const items: string[] = [];
  let x = o.x0, y = o.y;
  for (const s of series) {
    if (s.label === "") continue; // e.g. the second and later of a group of like lines
    const label = legendLabel(s, o.twoScales);
    const w = itemWidth(s, o.twoScales);
    if (x > o.x0 && x + w - 18 > o.box.width - 12) (x = o.x0, y += 16);
    const dash = s.dashed ? ` stroke-dasharray="7 5"` : "";
    const width = Math.min(3, Math.max(2, s.width ?? 1.75));
    items.push(
      `<line x1="${x}" y1="${y - 4}" x2="${x + 22}" y2="${
        y - 4
      }" stroke="${s.color}" stroke-width="${width}"${dash}/>`,
      `<text x="${x + 28}" y="${y}" font-size="11" fill="#333">${escapeXml(label)}</text>`,
    );
    x += w;
  }
  return `<g class="legend">${items.join("")}</g>`;
}
