/**
 * The other vehicles of N traffic episodes over flat arrays: placing them at the start,
 * moving them one step, the ego's collision, gap and time-to-collision against them, and
 * the K-nearest block of the observation.
 *
 * @module
 */

import { type CompiledActor, idmSpeed, pathPose, replayPose, wrapAngle } from "./actors.ts";
import { boxesOverlap, boxGap } from "./geometry.ts";

/** Numbers per neighbour slot of the observation. */
export const NEIGHBOR_FEATURES = 8;

/** Leaders farther than this ahead of an IDM vehicle are ignored (m). */
const IDM_RANGE = 60;

/** The ego as the world sees it after its step. */
export interface EgoPose {
  /** Box centre x (m). */
  x: number;
  /** Box centre y (m). */
  y: number;
  /** Heading (rad). */
  yaw: number;
  /** Speed (m/s). */
  speed: number;
}

/** N episodes' other vehicles. */
export class TrafficWorld {
  /** Vehicles of each env's scenario. */
  readonly actors: CompiledActor[][];
  /** (N) vehicles of each env. */
  readonly count: Int32Array;
  /** Capacity per env of the state arrays. */
  cap = 0;
  /** (N, cap) state: x, y, yaw, speed, arc length (IDM), replay sample hint. */
  x = new Float64Array(0);
  y = new Float64Array(0);
  yaw = new Float64Array(0);
  speed = new Float64Array(0);
  arc = new Float64Array(0);
  hint = new Int32Array(0);
  /** (N, cap) cosine and sine of each vehicle's yaw. */
  cos = new Float64Array(0);
  sin = new Float64Array(0);
  #next = new Float64Array(0);
  readonly #pose = new Float64Array(4);
  readonly #ego = new Float64Array(5);
  readonly #other = new Float64Array(5);
  readonly #order: Int32Array;
  readonly #dist: Float64Array;

  /** Room for N envs with up to `k` observed neighbours. */
  constructor(numEnvs: number, k: number) {
    this.actors = Array.from({ length: numEnvs }, () => []);
    this.count = new Int32Array(numEnvs);
    this.#order = new Int32Array(Math.max(k, 1));
    this.#dist = new Float64Array(Math.max(k, 1));
    this.#grow(4);
  }

  #grow(cap: number): void {
    const n = this.count.length, old = this.cap;
    const copy = <T extends Float64Array | Int32Array>(a: T, make: (len: number) => T): T => {
      const b = make(n * cap);
      for (let i = 0; i < n; i++) b.set(a.subarray(i * old, i * old + old), i * cap);
      return b;
    };
    const f = (len: number) => new Float64Array(len);
    this.x = copy(this.x, f);
    this.y = copy(this.y, f);
    this.yaw = copy(this.yaw, f);
    this.speed = copy(this.speed, f);
    this.arc = copy(this.arc, f);
    this.cos = copy(this.cos, f);
    this.sin = copy(this.sin, f);
    this.#next = copy(this.#next, f);
    this.hint = copy(this.hint, (len) => new Int32Array(len));
    this.cap = cap;
  }

  /** Puts env `i`'s vehicles `actors` at their start (time 0). */
  start(i: number, actors: CompiledActor[]): void {
    if (actors.length > this.cap) this.#grow(Math.max(actors.length, 2 * this.cap));
    this.actors[i] = actors;
    this.count[i] = actors.length;
    const o = i * this.cap, pose = this.#pose;
    for (let j = 0; j < actors.length; j++) {
      const a = actors[j];
      this.hint[o + j] = 0;
      if (a.mode === 0) {
        replayPose(a, 0, 0, pose);
      } else {
        pathPose(a.path, a.startS, pose);
        pose[3] = a.startSpeed;
      }
      this.arc[o + j] = a.startS;
      this.x[o + j] = pose[0];
      this.y[o + j] = pose[1];
      this.yaw[o + j] = pose[2];
      this.speed[o + j] = pose[3];
      this.cos[o + j] = Math.cos(pose[2]);
      this.sin[o + j] = Math.sin(pose[2]);
    }
  }

  /**
   * Moves env `i`'s vehicles to time `t` (s): replayed ones to their pose then, IDM ones
   * one step of `dt` behind the nearest box ahead on their heading (the ego's included).
   */
  advance(
    i: number,
    o: { t: number; dt: number; ego: EgoPose; egoLength: number; egoWidth: number },
  ): void {
    const actors = this.actors[i], m = actors.length, base = i * this.cap;
    const next = this.#next, pose = this.#pose;
    for (let j = 0; j < m; j++) {
      const a = actors[j];
      if (a.mode === 1) next[base + j] = this.#idmNext(i, j, o);
    }
    for (let j = 0; j < m; j++) {
      const a = actors[j], k = base + j;
      if (a.mode === 0) {
        this.hint[k] = replayPose(a, o.t, this.hint[k], pose);
      } else {
        const v = this.speed[k], v2 = next[k];
        this.arc[k] += 0.5 * (v + v2) * o.dt;
        pathPose(a.path, this.arc[k], pose);
        pose[3] = v2;
      }
      this.x[k] = pose[0];
      this.y[k] = pose[1];
      if (pose[2] !== this.yaw[k]) {
        this.yaw[k] = pose[2];
        this.cos[k] = Math.cos(pose[2]);
        this.sin[k] = Math.sin(pose[2]);
      }
      this.speed[k] = pose[3];
    }
  }

  #idmNext(
    i: number,
    j: number,
    o: { dt: number; ego: EgoPose; egoLength: number; egoWidth: number },
  ): number {
    const base = i * this.cap, k = base + j, actors = this.actors[i], a = actors[j];
    const x = this.x[k], y = this.y[k], yaw = this.yaw[k];
    const c = this.cos[k], s = this.sin[k];
    let gap = Infinity, leadSpeed = 0;
    // the ego first, then the other vehicles
    for (let q = -1; q < actors.length; q++) {
      if (q === j) continue;
      const p = base + q;
      const ox = q < 0 ? o.ego.x : this.x[p], oy = q < 0 ? o.ego.y : this.y[p];
      const len = q < 0 ? o.egoLength : actors[q].length;
      const wid = q < 0 ? o.egoWidth : actors[q].width;
      const dx = ox - x, dy = oy - y;
      const ahead = c * dx + s * dy, side = c * dy - s * dx;
      if (ahead <= 0 || ahead > IDM_RANGE || Math.abs(side) > 0.5 * (a.width + wid) + 0.3) continue;
      const g = ahead - 0.5 * (a.length + len);
      if (g < gap) {
        gap = g;
        const ov = q < 0 ? o.ego.speed : this.speed[p], oyaw = q < 0 ? o.ego.yaw : this.yaw[p];
        leadSpeed = ov * Math.cos(oyaw - yaw);
      }
    }
    return idmSpeed(a.idm!, { v: this.speed[k], gap, leadSpeed, dt: o.dt });
  }

  /**
   * The ego box `[x, y, yaw, length, width]` against env `i`'s vehicles: `out[0]` = 1 if
   * it overlaps one, `out[1]` = the smallest gap (m; Infinity without vehicles),
   * `out[2]` = the smallest time to collision at constant velocities (gap over closing
   * speed; Infinity when nothing closes in). Only values below `gapFloor` and
   * `ttcFloor` are exact: a vehicle whose centre distance minus both half-diagonals
   * shows its gap and time to collision are at least those is skipped (reported as the
   * floor or above).
   */
  contact(
    i: number,
    ego: EgoPose,
    o: { length: number; width: number; gapFloor: number; ttcFloor: number; out: Float64Array },
  ): void {
    const e = this.#ego, b = this.#other, actors = this.actors[i], base = i * this.cap;
    e[0] = ego.x;
    e[1] = ego.y;
    e[2] = ego.yaw;
    e[3] = o.length;
    e[4] = o.width;
    const egoHalfDiagonal = 0.5 * Math.sqrt(o.length * o.length + o.width * o.width);
    const evx = ego.speed * Math.cos(ego.yaw), evy = ego.speed * Math.sin(ego.yaw);
    let hit = 0, minGap = Infinity, minTtc = Infinity;
    for (let j = 0; j < actors.length; j++) {
      const k = base + j, a = actors[j];
      const dx = this.x[k] - ego.x, dy = this.y[k] - ego.y;
      const yaw = this.yaw[k], v = this.speed[k];
      const dvx = v * this.cos[k] - evx, dvy = v * this.sin[k] - evy;
      const d = Math.sqrt(dx * dx + dy * dy);
      const closing = d > 0 ? -(dx * dvx + dy * dvy) / d : 0;
      const bound = d - egoHalfDiagonal - 0.5 * Math.sqrt(a.length * a.length + a.width * a.width);
      let gap: number;
      if (bound >= o.gapFloor && (closing <= 1e-9 || bound / closing >= o.ttcFloor)) {
        gap = bound; // a lower bound, at or above both floors
      } else {
        b[0] = this.x[k];
        b[1] = this.y[k];
        b[2] = yaw;
        b[3] = a.length;
        b[4] = a.width;
        gap = boxGap(e, b);
        if (gap === 0 && boxesOverlap(e, b)) hit = 1;
      }
      if (gap < minGap) minGap = gap;
      if (closing > 1e-9) {
        const ttc = gap / closing;
        if (ttc < minTtc) minTtc = ttc;
      }
    }
    o.out[0] = hit;
    o.out[1] = minGap;
    o.out[2] = minTtc;
  }

  /**
   * Writes env `i`'s K nearest vehicles (by centre distance, ties by order) in the ego's
   * frame to `obs[offset ..]`, K slots of [x, y, vx, vy, heading, length, width, valid]:
   * position and velocity relative to the ego (x forward, y left), heading relative to
   * the ego's; unused slots are zeros.
   */
  writeNeighbors(
    i: number,
    ego: EgoPose,
    o: { k: number; obs: Float64Array; offset: number },
  ): void {
    const { k, obs, offset } = o;
    const actors = this.actors[i], m = actors.length, base = i * this.cap;
    const order = this.#order, dist = this.#dist;
    let filled = 0;
    for (let j = 0; j < m; j++) {
      const dx = this.x[base + j] - ego.x, dy = this.y[base + j] - ego.y;
      const d2 = dx * dx + dy * dy;
      if (filled === k && (k === 0 || d2 >= dist[k - 1])) continue;
      let p = filled < k ? filled++ : k - 1;
      while (p > 0 && dist[p - 1] > d2) {
        dist[p] = dist[p - 1];
        order[p] = order[p - 1];
        p--;
      }
      dist[p] = d2;
      order[p] = j;
    }
    const c = Math.cos(ego.yaw), s = Math.sin(ego.yaw);
    const evx = ego.speed * c, evy = ego.speed * s;
    for (let q = 0; q < k; q++) {
      const at = offset + q * NEIGHBOR_FEATURES;
      if (q >= filled) {
        for (let f = 0; f < NEIGHBOR_FEATURES; f++) obs[at + f] = 0;
        continue;
      }
      const j = order[q], kk = base + j;
      const dx = this.x[kk] - ego.x, dy = this.y[kk] - ego.y;
      const v = this.speed[kk];
      const dvx = v * this.cos[kk] - evx, dvy = v * this.sin[kk] - evy;
      obs[at] = c * dx + s * dy;
      obs[at + 1] = c * dy - s * dx;
      obs[at + 2] = c * dvx + s * dvy;
      obs[at + 3] = c * dvy - s * dvx;
      obs[at + 4] = wrapAngle(this.yaw[kk] - ego.yaw);
      obs[at + 5] = actors[j].length;
      obs[at + 6] = actors[j].width;
      obs[at + 7] = 1;
    }
  }
}
