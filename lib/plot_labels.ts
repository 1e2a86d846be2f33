/**
 * Placing short labels next to the dots of a scatter without covering any dot, line or
 * other label: each label tries a few spots around its own dot (above, below, right, left,
 * then farther out) and takes the first that is clear, else the least covered. Positions
 * are in pixels of the plot's frame, so the caller maps its data with the same margins it
 * gives Plot.
 *
 * @module
 */

/** A dot in pixels, with its label. */
export interface LabelledDot {
  x: number;
  y: number;
  r: number;
  label: string;
  /** Dots of one series are joined by a line, in the given order. */
  series: string;
}

/** Where a label goes, as an offset from its dot's centre (the text's centre). */
export interface LabelPlacement {
  dx: number;
  dy: number;
}

/** The plot area labels must stay inside, in pixels. */
export interface PlotArea {
  left: number;
  right: number;
  top: number;
  bottom: number;
}

interface Box {
  x0: number;
  x1: number;
  y0: number;
  y1: number;
}

/** Size of a label's box in Plot's 10px system-ui text. */
const CHAR_WIDTH = 5.6;
const TEXT_HEIGHT = 11;
const GAP = 3;

function boxAt(dot: LabelledDot, p: LabelPlacement): Box {
  const halfW = (dot.label.length * CHAR_WIDTH) / 2;
  const cx = dot.x + p.dx;
  const cy = dot.y + p.dy;
  return { x0: cx - halfW, x1: cx + halfW, y0: cy - TEXT_HEIGHT / 2, y1: cy + TEXT_HEIGHT / 2 };
}

function circleHits(box: Box, d: { x: number; y: number; r: number }): boolean {
  const nx = Math.max(box.x0, Math.min(d.x, box.x1));
  const ny = Math.max(box.y0, Math.min(d.y, box.y1));
  return (nx - d.x) ** 2 + (ny - d.y) ** 2 < (d.r + GAP) ** 2;
}

function boxesHit(a: Box, b: Box): boolean {
  return a.x0 < b.x1 && b.x0 < a.x1 && a.y0 < b.y1 && b.y0 < a.y1;
}

function segmentHits(box: Box, a: LabelledDot, b: LabelledDot): boolean {
  for (let i = 0; i <= 24; i++) {
    const x = a.x + ((b.x - a.x) * i) / 24;
    const y = a.y + ((b.y - a.y) * i) / 24;
    if (x > box.x0 && x < box.x1 && y > box.y0 && y < box.y1) return true;
  }
  return false;
}

function candidates(dot: LabelledDot, preferBelow: boolean): LabelPlacement[] {
  const halfW = (dot.label.length * CHAR_WIDTH) / 2;
  const out: LabelPlacement[] = [];
  for (const extra of [0, 8, 16]) {
    const above = { dx: 0, dy: -(dot.r + GAP + TEXT_HEIGHT / 2 + extra) };
    const below = { dx: 0, dy: dot.r + GAP + TEXT_HEIGHT / 2 + extra };
    const right = { dx: dot.r + GAP + halfW + extra, dy: 0 };
    const left = { dx: -(dot.r + GAP + halfW + extra), dy: 0 };
    out.push(...(preferBelow ? [below, above, left, right] : [above, below, right, left]));
  }
  return out;
}

/**
 * A placement for every dot's label (in input order), clear of every dot (with a small
 * gap), of the lines joining each series' dots, of the labels placed before it and of the
 * plot area's edges when possible. The first series prefers spots above its dots, the
 * others below.
 *
 * @example
 * ```ts
 * import { placeLabels } from "./plot_labels.ts";
 * const dots = [
 *   { x: 100, y: 100, r: 14, label: "n=133", series: "a" },
 *   { x: 104, y: 120, r: 13, label: "n=121", series: "b" },
 * ];
 * const [a, b] = placeLabels(dots, { left: 0, right: 400, top: 0, bottom: 400 });
 * // Each label's centre is farther from its dot's centre than the dot's radius.
 * if (Math.hypot(a!.dx, a!.dy) <= 14 || Math.hypot(b!.dx, b!.dy) <= 13) throw new Error();
 * ```
 */
export function placeLabels(dots: readonly LabelledDot[], area: PlotArea): LabelPlacement[] {
  const seriesOrder = [...new Set(dots.map((d) => d.series))];
  const lines: [LabelledDot, LabelledDot][] = [];
  for (const s of seriesOrder) {
    const own = dots.filter((d) => d.series === s);
    for (let i = 1; i < own.length; i++) lines.push([own[i - 1]!, own[i]!]);
  }
  const placed: Box[] = [];
  return dots.map((dot) => {
    const preferBelow = seriesOrder.indexOf(dot.series) > 0;
    let best: { p: LabelPlacement; box: Box; cost: number } | undefined;
    for (const p of candidates(dot, preferBelow)) {
      const box = boxAt(dot, p);
      let cost = 0;
      for (const d of dots) if (circleHits(box, d)) cost += 10;
      for (const [a, b] of lines) if (segmentHits(box, a, b)) cost += 3;
      for (const other of placed) if (boxesHit(box, other)) cost += 10;
      if (box.x0 < area.left || box.x1 > area.right || box.y0 < area.top || box.y1 > area.bottom) {
        cost += 1;
      }
      if (best === undefined || cost < best.cost) best = { p, box, cost };
      if (cost === 0) break;
    }
    placed.push(best!.box);
    return best!.p;
  });
}
