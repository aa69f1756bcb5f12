// A dependency-free SVG line chart: panels of (x, y) series with log or linear axes. Hand-written
// SVG text, so the chart diffs in review and renders on GitHub.

export interface Point {
  x: number;
  y: number;
  /** shown next to the point */
  label?: string;
}

export interface Series {
  name: string;
  color: string;
  points: Point[];
  dashed?: boolean;
}

export interface Panel {
  title: string;
  xLabel: string;
  yLabel: string;
  xLog: boolean;
  series: Series[];
  /** horizontal reference lines, e.g. a target */
  refs?: { y: number; label: string; color: string }[];
  xFormat?: (x: number) => string;
}

const W = 520;
const H = 360;
const M = { left: 70, right: 20, top: 40, bottom: 56 };

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

export function siFormat(v: number): string {
  const a = Math.abs(v);
  if (a >= 1e9) return `${+(v / 1e9).toFixed(1)}G`;
  if (a >= 1e6) return `${+(v / 1e6).toFixed(1)}M`;
  if (a >= 1e3) return `${+(v / 1e3).toFixed(1)}k`;
  return `${+v.toFixed(1)}`;
}

export function bytesFormat(v: number): string {
  if (v >= 1e9) return `${+(v / 1e9).toFixed(1)} GB`;
  if (v >= 1e6) return `${+(v / 1e6).toFixed(v >= 1e8 ? 0 : 1)} MB`;
  if (v >= 1e3) return `${+(v / 1e3).toFixed(0)} KB`;
  return `${v} B`;
}

function niceStep(range: number, ticks: number): number {
  const raw = range / ticks;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const n = raw / mag;
  return (n < 1.5 ? 1 : n < 3.5 ? 2 : n < 7.5 ? 5 : 10) * mag;
}

function panelSvg(p: Panel, ox: number): string {
  const pts = p.series.flatMap((s) => s.points);
  const out: string[] = [];
  const iw = W - M.left - M.right;
  const ih = H - M.top - M.bottom;
  out.push(`<g transform="translate(${ox},0)">`);
  out.push(
    `<text x="${W / 2}" y="22" text-anchor="middle" font-size="15" font-weight="bold">${esc(p.title)}</text>`,
  );
  if (pts.length === 0) {
    out.push(
      `<text x="${W / 2}" y="${H / 2}" text-anchor="middle" font-size="13">no data in this run</text></g>`,
    );
    return out.join('\n');
  }
  const xs = pts.map((q) => q.x);
  let x0 = Math.min(...xs);
  let x1 = Math.max(...xs);
  if (p.xLog) {
    x0 = 10 ** Math.floor(Math.log10(x0));
    x1 = 10 ** Math.ceil(Math.log10(x1));
  } else if (x0 === x1) {
    x1 = x0 + 1;
  }
  const yMax = Math.max(...pts.map((q) => q.y), ...(p.refs ?? []).map((r) => r.y)) * 1.1;
  const yStep = niceStep(yMax, 5);
  const y1 = Math.ceil(yMax / yStep) * yStep;
  const sx = (x: number): number =>
    M.left +
    (p.xLog
      ? (Math.log10(x) - Math.log10(x0)) / (Math.log10(x1) - Math.log10(x0))
      : (x - x0) / (x1 - x0)) *
      iw;
  const sy = (y: number): number => M.top + ih - (y / y1) * ih;

  // Axes, grid, ticks
  out.push(
    `<rect x="${M.left}" y="${M.top}" width="${iw}" height="${ih}" fill="none" stroke="#999"/>`,
  );
  for (let y = 0; y <= y1 + 1e-9; y += yStep) {
    out.push(
      `<line x1="${M.left}" x2="${M.left + iw}" y1="${sy(y)}" y2="${sy(y)}" stroke="#eee"/>`,
    );
    out.push(
      `<text x="${M.left - 6}" y="${sy(y) + 4}" text-anchor="end" font-size="11">${siFormat(y)}</text>`,
    );
  }
  const fmt = p.xFormat ?? siFormat;
  const xTicks: number[] = [];
  if (p.xLog) for (let e = Math.log10(x0); e <= Math.log10(x1) + 1e-9; e++) xTicks.push(10 ** e);
  else for (let x = x0, st = niceStep(x1 - x0, 6); x <= x1 + 1e-9; x += st) xTicks.push(x);
  for (const x of xTicks) {
    out.push(`<line x1="${sx(x)}" x2="${sx(x)}" y1="${M.top}" y2="${M.top + ih}" stroke="#eee"/>`);
    out.push(
      `<text x="${sx(x)}" y="${M.top + ih + 16}" text-anchor="middle" font-size="11">${esc(fmt(x))}</text>`,
    );
  }
  out.push(
    `<text x="${M.left + iw / 2}" y="${H - 18}" text-anchor="middle" font-size="12">${esc(p.xLabel)}</text>`,
  );
  out.push(
    `<text x="16" y="${M.top + ih / 2}" text-anchor="middle" font-size="12" transform="rotate(-90 16 ${M.top + ih / 2})">${esc(p.yLabel)}</text>`,
  );
  for (const r of p.refs ?? []) {
    out.push(
      `<line x1="${M.left}" x2="${M.left + iw}" y1="${sy(r.y)}" y2="${sy(r.y)}" stroke="${r.color}" stroke-dasharray="6 4"/>`,
    );
    out.push(
      `<text x="${M.left + iw - 4}" y="${sy(r.y) - 4}" text-anchor="end" font-size="11" fill="${r.color}">${esc(r.label)}</text>`,
    );
  }
  // Series
  p.series.forEach((s, i) => {
    const sorted = [...s.points].sort((a, b) => a.x - b.x);
    const d = sorted
      .map((q, j) => `${j ? 'L' : 'M'}${sx(q.x).toFixed(1)},${sy(q.y).toFixed(1)}`)
      .join(' ');
    out.push(
      `<path d="${d}" fill="none" stroke="${s.color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="5 3"' : ''}/>`,
    );
    for (const q of sorted) {
      out.push(
        `<circle cx="${sx(q.x).toFixed(1)}" cy="${sy(q.y).toFixed(1)}" r="3.5" fill="${s.color}"/>`,
      );
      if (q.label) {
        out.push(
          `<text x="${sx(q.x).toFixed(1)}" y="${(sy(q.y) - 8).toFixed(1)}" text-anchor="middle" font-size="10" fill="${s.color}">${esc(q.label)}</text>`,
        );
      }
    }
    const ly = M.top + 14 + i * 16;
    out.push(
      `<line x1="${M.left + 10}" x2="${M.left + 30}" y1="${ly - 4}" y2="${ly - 4}" stroke="${s.color}" stroke-width="2"/>`,
    );
    out.push(`<text x="${M.left + 36}" y="${ly}" font-size="11">${esc(s.name)}</text>`);
  });
  out.push('</g>');
  return out.join('\n');
}

/** Panels side by side, with a caption line under them. */
export function chartSvg(panels: Panel[], caption: string): string {
  const width = W * panels.length;
  const height = H + 24;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="Helvetica, Arial, sans-serif">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    ...panels.map((p, i) => panelSvg(p, i * W)),
    `<text x="${width / 2}" y="${H + 14}" text-anchor="middle" font-size="11" fill="#555">${esc(caption)}</text>`,
    '</svg>',
    '',
  ].join('\n');
}
