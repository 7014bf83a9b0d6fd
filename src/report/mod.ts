/**
 * The training report of a run folder as pure functions: parsed `metrics.json` and
 * `train_metrics.json` in, an SVG grid of line charts and a standalone HTML page out.
 * `chart.ts` and `grid.ts` draw charts and know nothing of RL; `panels.ts` picks the
 * run's panels from the env it trained on; `page.ts` is the HTML page.
 *
 * @module
 */

export { formatNumber, niceTicks, thinSeries } from "./axes.ts";
export { escapeXml, movingAverage, renderPanel } from "./chart.ts";
export type { Panel, PanelBox, Point, Series } from "./chart.ts";
export { renderChartGrid } from "./grid.ts";
export type { GridOptions } from "./grid.ts";
export { renderReportSvg, reportPanels } from "./panels.ts";
export type { ReportEnv, RunReportData } from "./panels.ts";
export { renderHtmlPage, renderReportHtml } from "./page.ts";
export type { HtmlPageOptions } from "./page.ts";
export { finiteOrNaN, numberAt, readEntry, readTrainMetrics } from "./run_metrics.ts";
export type { EntryNumbers, HeldoutNumbers, TrainNumbers } from "./run_metrics.ts";
