/**
 * The training report of a run folder as pure functions: parsed `metrics.json` and
 * `train_metrics.json` in, an SVG grid of line charts and a standalone HTML page out.
 * `chart.ts` and `grid.ts` draw charts and know nothing of RL; `panels.ts` picks the
 * run's panels from the env it trained on; `page.ts` is the HTML page.
 *
 * @module
 */

export { formatNumber, niceTicks } from "./axes.ts";
export { escapeXml, movingAverage, renderPanel } from "./chart.ts";
export type { Panel, PanelBox, Point, Series } from "./chart.ts";
export { renderChartGrid } from "./grid.ts";
export type { GridOptions } from "./grid.ts";
export { COLORS, renderReportSvg, reportPanels } from "./panels.ts";
export type { ExpertNumbers, ReportEnv, ReportMetric, RunReportData } from "./panels.ts";
export { parseEpisodes } from "./episodes_data.ts";
export type { EpisodesData, SeedData, ViewData } from "./episodes_data.ts";
export { renderSeedPicture, stillMoments } from "./scene.ts";
export { animationClock, renderSeedAnimation } from "./scene_animation.ts";
export { histogramEdges, returnDistributionPanel } from "./distribution.ts";
export { bucketed, LONG_TRACE } from "./return_panels.ts";
export { renderHtmlPage, renderReportHtml } from "./page.ts";
export type { HtmlPageOptions } from "./page.ts";
export { numberAt, readEntry, readTrainMetrics } from "./run_metrics.ts";
export type { EntryNumbers, HeldoutNumbers, TrainNumbers } from "./run_metrics.ts";
