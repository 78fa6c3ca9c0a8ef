/**
 * A log-log line chart as standalone SVG text (no dependency): one series
 * per phase, x = cluster nodes, y = milliseconds.
 */
export interface Series {
  name: string;
  points: Array<[number, number]>;
}

const COLORS = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f'];

export function logLogChart(title: string, xLabel: string, yLabel: string, series: Series[]): string {
  const W = 720;
  const H = 420;
  const L = 70;
  const R = 170;
  const T = 40;
  const B = 50;
  const all = series.flatMap((s) => s.points).filter(([x, y]) => x > 0 && y > 0);
  const lx = (v: number): number => Math.log10(v);
  const x0 = Math.floor(lx(Math.min(...all.map((p) => p[0]))));
  const x1 = Math.ceil(lx(Math.max(...all.map((p) => p[0]))));
  const y0 = Math.floor(lx(Math.min(...all.map((p) => p[1]))));
  const y1 = Math.ceil(lx(Math.max(...all.map((p) => p[1]))));
  const px = (v: number): number => L + ((lx(v) - x0) / Math.max(1, x1 - x0)) * (W - L - R);
  const py = (v: number): number => H - B - ((lx(v) - y0) / Math.max(1, y1 - y0)) * (H - T - B);
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${W / 2}" y="20" text-anchor="middle" font-size="14">${title}</text>`,
  ];
  for (let e = y0; e <= y1; e++) {
    const y = py(10 ** e);
    out.push(`<line x1="${L}" x2="${W - R}" y1="${y}" y2="${y}" stroke="#ddd"/><text x="${L - 6}" y="${y + 4}" text-anchor="end">${10 ** e}</text>`);
  }
  for (let e = x0; e <= x1; e++) {
    const x = px(10 ** e);
    out.push(`<line x1="${x}" x2="${x}" y1="${T}" y2="${H - B}" stroke="#ddd"/><text x="${x}" y="${H - B + 16}" text-anchor="middle">${(10 ** e).toLocaleString('en')}</text>`);
  }
  out.push(`<text x="${(L + W - R) / 2}" y="${H - 12}" text-anchor="middle">${xLabel}</text>`);
  out.push(`<text transform="translate(16 ${(T + H - B) / 2}) rotate(-90)" text-anchor="middle">${yLabel}</text>`);
  series.forEach((s, i) => {
    const c = COLORS[i % COLORS.length]!;
    const pts = s.points.filter(([x, y]) => x > 0 && y > 0);
    out.push(`<polyline fill="none" stroke="${c}" stroke-width="2" points="${pts.map(([x, y]) => `${px(x).toFixed(1)},${py(y).toFixed(1)}`).join(' ')}"/>`);
    for (const [x, y] of pts) out.push(`<circle cx="${px(x).toFixed(1)}" cy="${py(y).toFixed(1)}" r="3" fill="${c}"/>`);
    out.push(`<line x1="${W - R + 12}" x2="${W - R + 32}" y1="${T + 10 + i * 18}" y2="${T + 10 + i * 18}" stroke="${c}" stroke-width="2"/><text x="${W - R + 38}" y="${T + 14 + i * 18}">${s.name}</text>`);
  });
  out.push('</svg>');
  return out.join('\n') + '\n';
}
