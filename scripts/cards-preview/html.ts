import {
  isRenderedElementNode, isRenderedTextNode, type RenderedChildNode, type RenderedElementNode, type RenderedNode,
} from '@hubspot/ui-extensions/testing';

// The tree HubSpot's test renderer builds for a card, drawn as static HTML: one plain mapping per HubSpot component,
// styled to look like a HubSpot card. A component without a mapping is an error naming it, never silently dropped.
// Props that take a fragment (a Button's `overlay`, …) hold what opens on a click and are not drawn.

type Props = Record<string, unknown>;
/** A rendered element with its props as plain values (the renderer types them all as fragments). */
type Element = Omit<RenderedElementNode, 'props'> & { props: Props };
const asElement = (node: RenderedElementNode): Element => node as unknown as Element;

/** Components of the rendered tree this mapping cannot draw, each with where it sits in the tree. */
export class UnmappedComponentError extends Error {
  constructor(readonly components: ReadonlyArray<{ name: string; path: string }>) {
    const names = [...new Set(components.map((c) => c.name))];
    super(`No HTML mapping for HubSpot component${names.length === 1 ? '' : 's'} ${names.join(', ')} `
      + `(at ${components.map((c) => c.path).join('; ')}); add ${names.length === 1 ? 'it' : 'them'} to scripts/cards-preview/html.ts`);
    this.name = 'UnmappedComponentError';
  }
}

export const escapeHtml = (value: unknown): string => String(value)
  .replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');

const str = (props: Props, key: string): string | undefined => {
  const value = props[key];
  return typeof value === 'string' || typeof value === 'number' ? String(value) : undefined;
};
const bool = (props: Props, key: string): boolean => props[key] === true;
const cls = (...names: Array<string | false | undefined>): string => names.filter(Boolean).join(' ');
const attr = (name: string, value: string | undefined): string => (value === undefined ? '' : ` ${name}="${escapeHtml(value)}"`);

const DISTANCES: Record<string, number> = {
  flush: 0, xs: 4, 'extra-small': 4, sm: 8, small: 8, md: 16, medium: 16, lg: 24, large: 24, xl: 32, 'extra-large': 32,
};
const distance = (value: string | undefined, fallback: number): number => (value === undefined ? fallback : DISTANCES[value] ?? fallback);
const FLEX_ALIGN: Record<string, string> = {
  start: 'flex-start', end: 'flex-end', center: 'center', baseline: 'baseline', stretch: 'stretch', auto: 'auto',
  around: 'space-around', between: 'space-between',
};

/** An `href` prop (a URL string or `{ url, external }`) as its URL and whether it opens elsewhere. */
const hrefOf = (value: unknown): { url: string; external: boolean } | null => {
  if (typeof value === 'string') return { url: value, external: false };
  if (typeof value === 'object' && value !== null && typeof (value as { url?: unknown }).url === 'string') {
    return { url: (value as { url: string }).url, external: (value as { external?: unknown }).external === true };
  }
  return null;
};

// ---------------------------------------------------------------------------------------------------- charts

type ChartRow = Record<string, string | number>;
type Axis = { field: string; label?: string };

const CHART_COLORS: Record<string, string> = {
  orange: '#ff7a59', aqua: '#00bda5', purple: '#6a78d1', yellow: '#f5c26b', pink: '#f2547d', blue: '#00a4bd', green: '#7fd1b9',
  darkOrange: '#d94c2c', darkAqua: '#00a38d', darkPurple: '#4f5bb5', darkYellow: '#d39913', darkPink: '#d13b62', darkBlue: '#0078a8',
  darkGreen: '#2f9e7a',
};
const DEFAULT_SERIES = ['#00a4bd', '#ff7a59', '#6a78d1', '#f5c26b', '#00bda5', '#f2547d'];

/** A chart value as a short label: grouped digits, compact from 100,000 on, at most 2 decimals below 10. */
export const chartNumber = (value: number): string => {
  const abs = Math.abs(value);
  if (abs >= 100_000) return new Intl.NumberFormat('en-US', { notation: 'compact', maximumFractionDigits: 1 }).format(value);
  return new Intl.NumberFormat('en-US', { maximumFractionDigits: abs >= 10 ? 0 : 2 }).format(value);
};

/** Tick values from `min` to `max` (inclusive of both ends, rounded outward to a step of 1, 2 or 5 × 10^n). */
const ticks = (min: number, max: number, count = 4): number[] => {
  if (min === max) return min === 0 ? [0, 1] : [Math.min(0, min), Math.max(0, max)];
  const raw = (max - min) / count;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * magnitude).find((s) => s >= raw) ?? raw;
  const out: number[] = [];
  for (let v = Math.floor(min / step) * step; v <= Math.ceil(max / step) * step + step / 2; v += step) out.push(Number(v.toPrecision(12)));
  return out;
};

const chartInput = (el: Element) => {
  const data = el.props.data;
  const rows: ChartRow[] = Array.isArray(data) ? data as ChartRow[] : ((data as { data?: ChartRow[] } | undefined)?.data ?? []);
  const axes = (el.props.axes ?? {}) as { x?: Axis; y?: Axis; options?: { groupFieldByColor?: string; colors?: Record<string, string> } };
  const options = (el.props.options ?? {}) as { title?: string; showDataLabels?: boolean; showLegend?: boolean; colorList?: string[]; colors?: string[] };
  if (axes.x === undefined || axes.y === undefined) throw new Error(`${el.name}: the axes prop names no x or y field`);
  const x = axes.x;
  const y = axes.y;
  const group = axes.options?.groupFieldByColor;
  const categories = [...new Set(rows.map((r) => String(r[x.field])))];
  const seriesNames = group === undefined ? [''] : [...new Set(rows.map((r) => String(r[group])))];
  const palette = (options.colorList ?? options.colors ?? []).map((c) => CHART_COLORS[c] ?? c);
  const colorOf = (name: string, i: number): string => {
    const byName = axes.options?.colors?.[name];
    return (byName && CHART_COLORS[byName]) ?? palette[i] ?? DEFAULT_SERIES[i % DEFAULT_SERIES.length]!;
  };
  const series = seriesNames.map((name, i) => ({
    name,
    color: colorOf(name, i),
    values: categories.map((category) => {
      const row = rows.find((r) => String(r[x.field]) === category && (group === undefined || String(r[group]) === name));
      const value = row === undefined ? NaN : Number(row[y.field]);
      return Number.isFinite(value) ? value : null;
    }),
  }));
  return { rows, x, y, categories, series, options, grouped: group !== undefined };
};

const W = 720;
const H = 250;
const M = { left: 64, right: 16, top: 22, bottom: 52 };

/** Frame of a chart: title, y grid and tick labels, x category labels, axis labels and legend around `plot`. */
const chartFrame = (el: Element, kind: 'bar' | 'line', draw: (scaleY: (v: number) => number, slot: number) => string): string => {
  const { x, y, categories, series, options, grouped } = chartInput(el);
  const values = series.flatMap((s) => s.values.filter((v): v is number => v !== null));
  const t = ticks(Math.min(0, ...values), Math.max(0, ...values));
  const lo = t[0]!;
  const hi = t[t.length - 1]!;
  const plotW = W - M.left - M.right;
  const plotH = H - M.top - M.bottom;
  const scaleY = (v: number): number => M.top + plotH - ((v - lo) / (hi - lo)) * plotH;
  const slot = plotW / Math.max(1, categories.length);
  const every = Math.max(1, Math.ceil(categories.length / Math.floor(plotW / 56)));
  const grid = t.map((v) => `<line x1="${M.left}" x2="${W - M.right}" y1="${scaleY(v)}" y2="${scaleY(v)}" class="${v === 0 ? 'zero' : 'grid'}"/>`
    + `<text x="${M.left - 8}" y="${scaleY(v) + 4}" text-anchor="end" class="tick">${escapeHtml(chartNumber(v))}</text>`).join('');
  const xLabels = categories.map((c, i) => (i % every === 0
    ? `<text x="${M.left + slot * i + slot / 2}" y="${H - M.bottom + 18}" text-anchor="middle" class="tick">${escapeHtml(c)}</text>` : '')).join('');
  const axisLabels = (x.label ? `<text x="${M.left + plotW / 2}" y="${H - 10}" text-anchor="middle" class="axis">${escapeHtml(x.label)}</text>` : '')
    + (y.label ? `<text transform="translate(14 ${M.top + plotH / 2}) rotate(-90)" text-anchor="middle" class="axis">${escapeHtml(y.label)}</text>` : '');
  const legend = grouped || options.showLegend
    ? `<div class="hs-chart-legend">${series.map((s) => `<span><i style="background:${s.color}"></i>${escapeHtml(s.name || y.label || y.field)}</span>`).join('')}</div>`
    : '';
  const empty = categories.length === 0 ? `<text x="${M.left + plotW / 2}" y="${M.top + plotH / 2}" text-anchor="middle" class="axis">No data</text>` : '';
  return `<figure class="hs-chart hs-chart-${kind}">`
    + (options.title ? `<figcaption>${escapeHtml(options.title)}</figcaption>` : '')
    + `<svg viewBox="0 0 ${W} ${H}" width="100%" role="img" aria-label="${escapeHtml(options.title ?? el.name)}">`
    + `${grid}${draw(scaleY, slot)}${xLabels}${axisLabels}${empty}</svg>${legend}</figure>`;
};

const barChart = (el: Element): string => {
  const { series, options } = chartInput(el);
  return chartFrame(el, 'bar', (scaleY, slot) => {
    const width = Math.min(64, (slot * 0.7) / series.length);
    return series.map((s, si) => s.values.map((v, i) => {
      if (v === null) return '';
      const x0 = M.left + slot * i + (slot - width * series.length) / 2 + width * si;
      const top = Math.min(scaleY(v), scaleY(0));
      const height = Math.max(Math.abs(scaleY(0) - scaleY(v)), v === 0 ? 0 : 1);
      const label = options.showDataLabels
        ? `<text x="${x0 + width / 2}" y="${v < 0 ? top + height + 14 : top - 5}" text-anchor="middle" class="value">${escapeHtml(chartNumber(v))}</text>` : '';
      return `<rect x="${x0}" y="${top}" width="${width}" height="${height}" rx="2" fill="${s.color}"/>${label}`;
    }).join('')).join('');
  });
};

const lineChart = (el: Element): string => {
  const { series, options } = chartInput(el);
  return chartFrame(el, 'line', (scaleY, slot) => series.map((s) => {
    const points = s.values.flatMap((v, i) => (v === null ? [] : [{ x: M.left + slot * i + slot / 2, y: scaleY(v), v }]));
    const path = points.length > 1 ? `<polyline fill="none" stroke="${s.color}" stroke-width="2.5" points="${points.map((p) => `${p.x},${p.y}`).join(' ')}"/>` : '';
    return path + points.map((p) => `<circle cx="${p.x}" cy="${p.y}" r="3.5" fill="#fff" stroke="${s.color}" stroke-width="2"/>`
      + (options.showDataLabels ? `<text x="${p.x}" y="${p.y - 9}" text-anchor="middle" class="value">${escapeHtml(chartNumber(p.v))}</text>` : '')).join('');
  }).join(''));
};

// ---------------------------------------------------------------------------------------------------- components

type Ctx = {
  /** The element's children as HTML. */
  children: () => string;
  /** One node as HTML. */
  node: (node: RenderedChildNode) => string;
};
type Mapper = (el: Element, ctx: Ctx) => string;

const field = (el: Element, control: string, options: { inline?: boolean } = {}): string => {
  const p = el.props;
  const label = str(p, 'label');
  const message = str(p, 'validationMessage');
  return `<label class="${cls('hs-field', options.inline && 'inline', bool(p, 'error') && 'invalid')}">`
    + (label ? `<span class="hs-field-label">${escapeHtml(label)}${bool(p, 'required') ? '<span class="req">*</span>' : ''}</span>` : '')
    + (str(p, 'description') ? `<span class="hs-field-description">${escapeHtml(str(p, 'description'))}</span>` : '')
    + control
    + (message ? `<span class="${cls('hs-field-message', bool(p, 'error') && 'error')}">${escapeHtml(message)}</span>` : '')
    + '</label>';
};

const inputBox = (value: string | undefined, placeholder: string | undefined, extra = ''): string =>
  `<span class="hs-input${extra ? ` ${extra}` : ''}">${value ? escapeHtml(value) : `<span class="placeholder">${escapeHtml(placeholder ?? '')}</span>`}</span>`;

const dateText = (value: unknown): string | undefined => {
  if (typeof value !== 'object' || value === null) return undefined;
  const { year, month, date } = value as { year?: number; month?: number; date?: number };
  if (year === undefined || month === undefined || date === undefined) return undefined;
  return `${year}-${String(month + 1).padStart(2, '0')}-${String(date).padStart(2, '0')}`;
};

const optionLabel = (props: Props, value: unknown): string | undefined => {
  const options = Array.isArray(props.options) ? props.options as Array<{ label: string; value: unknown }> : [];
  return options.find((o) => o.value === value)?.label;
};

const SPINNER = '<svg class="hs-spinner" viewBox="0 0 40 40" width="32" height="32" aria-hidden="true"><circle cx="20" cy="20" r="16" fill="none" stroke="#dbe4ec" stroke-width="4"/>'
  + '<path d="M20 4 a16 16 0 0 1 16 16" fill="none" stroke="#0091ae" stroke-width="4" stroke-linecap="round"/></svg>';

const EMPTY_ILLUSTRATION = '<svg viewBox="0 0 120 90" width="120" height="90" aria-hidden="true"><rect x="10" y="10" width="100" height="70" rx="6" fill="#eaf0f6"/>'
  + '<rect x="24" y="50" width="14" height="20" rx="2" fill="#7fd1de"/><rect x="46" y="36" width="14" height="34" rx="2" fill="#00a4bd"/>'
  + '<rect x="68" y="44" width="14" height="26" rx="2" fill="#b4bfd6"/><rect x="90" y="28" width="10" height="42" rx="2" fill="#ffbcac"/></svg>';

const ERROR_ILLUSTRATION = '<svg viewBox="0 0 120 90" width="120" height="90" aria-hidden="true"><circle cx="60" cy="45" r="34" fill="#fde8e9"/>'
  + '<path d="M60 24 L84 66 H36 Z" fill="#f2545b"/><rect x="58" y="38" width="4" height="14" rx="2" fill="#fff"/><circle cx="60" cy="58" r="2.5" fill="#fff"/></svg>';

const pager = (p: Props): string => {
  const count = Math.max(1, Number(p.pageCount ?? 1));
  const page = Math.min(count, Math.max(1, Number(p.page ?? 1)));
  const visible = Math.max(1, Number(p.maxVisiblePageButtons ?? 5));
  const first = Math.max(1, Math.min(page - Math.floor(visible / 2), count - visible + 1));
  const numbers = Array.from({ length: Math.min(visible, count) }, (_, i) => first + i)
    .map((n) => `<span class="${cls('page', n === page && 'current')}">${n}</span>`).join('');
  const labels = bool(p, 'showButtonLabels');
  const button = (glyph: string, label: string, enabled: boolean): string =>
    `<span class="${cls('page-nav', !enabled && 'disabled')}">${labels && label ? `${glyph} ${label}` : glyph}</span>`;
  return `<nav class="hs-pager" aria-label="Pages">${bool(p, 'showFirstLastButtons') ? button('«', '', page > 1) : ''}`
    + `${button('‹', 'Prev', page > 1)}${numbers}${button('›', 'Next', page < count)}`
    + `${bool(p, 'showFirstLastButtons') ? button('»', '', page < count) : ''}</nav>`;
};

const SORT_GLYPH: Record<string, string> = { none: '↕', ascending: '▲', descending: '▼' };

const alignStyle = (p: Props): string => {
  const align = str(p, 'align');
  const width = p.width;
  const styles = [
    align ? `text-align:${align}` : '',
    typeof width === 'number' ? `width:${width}px` : width === 'min' ? 'width:1%;white-space:nowrap' : '',
  ].filter(Boolean);
  return styles.length ? ` style="${styles.join(';')}"` : '';
};

const flex = (el: Element, ctx: Ctx, defaults: { direction: string; gap: number }): string => {
  const p = el.props;
  const styles = [
    `flex-direction:${str(p, 'direction') ?? defaults.direction}`,
    `gap:${distance(str(p, 'gap') ?? str(p, 'distance'), defaults.gap)}px`,
    str(p, 'justify') ? `justify-content:${FLEX_ALIGN[str(p, 'justify')!] ?? 'flex-start'}` : '',
    str(p, 'align') ? `align-items:${FLEX_ALIGN[str(p, 'align')!] ?? 'stretch'}` : '',
    str(p, 'alignSelf') ? `align-self:${FLEX_ALIGN[str(p, 'alignSelf')!] ?? 'auto'}` : '',
    p.wrap === true || p.wrap === 'wrap' ? 'flex-wrap:wrap' : '',
  ].filter(Boolean);
  return `<div class="hs-flex" style="${styles.join(';')}">${ctx.children()}</div>`;
};

const text: Mapper = (el, ctx) => {
  const p = el.props;
  const format = (p.format ?? {}) as { fontWeight?: string; italic?: boolean; lineDecoration?: string; textTransform?: string };
  const styles = [
    format.fontWeight === 'bold' ? 'font-weight:700' : format.fontWeight === 'demibold' ? 'font-weight:600' : '',
    format.italic ? 'font-style:italic' : '',
    format.lineDecoration === 'underline' ? 'text-decoration:underline' : format.lineDecoration === 'strikethrough' ? 'text-decoration:line-through' : '',
    format.textTransform && format.textTransform !== 'none' && format.textTransform !== 'sentenceCase' ? `text-transform:${format.textTransform}` : '',
  ].filter(Boolean);
  const tag = bool(p, 'inline') ? 'span' : 'p';
  return `<${tag} class="${cls('hs-text', str(p, 'variant') === 'microcopy' && 'micro')}"${styles.length ? ` style="${styles.join(';')}"` : ''}>${ctx.children()}</${tag}>`;
};

const button = (el: Element, ctx: Ctx, loading = false): string => {
  const p = el.props;
  const href = hrefOf(p.href);
  const classes = cls('hs-btn', `hs-btn-${str(p, 'variant') ?? 'secondary'}`, str(p, 'size') && `hs-btn-${str(p, 'size')}`);
  const inner = `${loading && bool(p, 'loading') ? `${SPINNER} ` : ''}${ctx.children()}`;
  return href
    ? `<a class="${classes}" href="${escapeHtml(href.url)}">${inner}</a>`
    : `<button class="${classes}" type="button"${bool(p, 'disabled') ? ' disabled' : ''}>${inner}</button>`;
};

const toggleInput = (el: Element, ctx: Ctx, kind: 'checkbox' | 'radio'): string =>
  `<label class="hs-check"><span class="${cls(`hs-${kind}`, bool(el.props, 'checked') || bool(el.props, 'initialIsChecked') ? 'on' : '')}"></span>`
  + `<span>${ctx.children()}${str(el.props, 'description') ? `<span class="hs-field-description">${escapeHtml(str(el.props, 'description'))}</span>` : ''}</span></label>`;

export const MAPPINGS: Readonly<Record<string, Mapper>> = {
  // Layout
  Flex: (el, ctx) => flex(el, ctx, { direction: 'row', gap: 0 }),
  Inline: (el, ctx) => flex(el, ctx, { direction: 'row', gap: 8 }),
  Stack: (el, ctx) => flex(el, ctx, { direction: 'column', gap: 16 }),
  Box: (el, ctx) => {
    const flexValue = el.props.flex;
    const styles = [
      flexValue === undefined ? '' : `flex:${typeof flexValue === 'number' ? `${flexValue} 1 0` : flexValue === 'auto' ? '1 1 auto' : flexValue === 'none' ? 'none' : '0 1 auto'}`,
      str(el.props, 'alignSelf') ? `align-self:${FLEX_ALIGN[str(el.props, 'alignSelf')!] ?? 'auto'}` : '',
    ].filter(Boolean);
    return `<div class="hs-box"${styles.length ? ` style="${styles.join(';')}"` : ''}>${ctx.children()}</div>`;
  },
  AutoGrid: (el, ctx) => `<div class="hs-grid" style="grid-template-columns:repeat(auto-fill,minmax(${Number(el.props.columnWidth ?? 200)}px,1fr));gap:${distance(str(el.props, 'gap'), 16)}px">${ctx.children()}</div>`,
  Divider: (el) => `<hr class="hs-divider" style="margin:${distance(str(el.props, 'distance'), 8)}px 0"/>`,
  Spacer: (el) => `<div style="height:${distance(str(el.props, 'size'), 16)}px"></div>`,
  Tile: (el, ctx) => `<div class="${cls('hs-tile', bool(el.props, 'compact') && 'compact', bool(el.props, 'flush') && 'flush')}">${ctx.children()}</div>`,
  Form: (_el, ctx) => `<form class="hs-form">${ctx.children()}</form>`,
  Accordion: (el, ctx) => `<details class="hs-accordion"${bool(el.props, 'defaultOpen') ? ' open' : ''}><summary>${escapeHtml(str(el.props, 'title') ?? '')}</summary>${ctx.children()}</details>`,
  Tabs: (el, ctx) => {
    const tabs = el.childNodes.filter(isRenderedElementNode).filter((c) => c.name === 'Tab').map(asElement);
    const idOf = (tab: Element, i: number): string => str(tab.props, 'tabId') ?? String(i);
    const selected = str(el.props, 'selected') ?? str(el.props, 'defaultSelected') ?? (tabs[0] ? idOf(tabs[0], 0) : '');
    const current = tabs.find((t, i) => idOf(t, i) === selected) ?? tabs[0];
    return `<div class="hs-tabs"><div class="hs-tab-bar">${tabs.map((t, i) => `<span class="${cls('hs-tab', t === current && 'current')}">${escapeHtml(str(t.props, 'title') ?? idOf(t, i))}</span>`).join('')}</div>`
      + `<div class="hs-tab-panel">${current ? current.childNodes.map(ctx.node).join('') : ''}</div></div>`;
  },
  // The Tabs mapping draws its Tab children; a Tab found elsewhere is drawn as its content.
  Tab: (_el, ctx) => `<div>${ctx.children()}</div>`,
  // Text
  Text: text,
  Heading: (el, ctx) => (bool(el.props, 'inline') ? `<span class="hs-heading">${ctx.children()}</span>` : `<h3 class="hs-heading">${ctx.children()}</h3>`),
  Link: (el, ctx) => {
    const href = hrefOf(el.props.href);
    return `<a class="${cls('hs-link', str(el.props, 'variant') && `hs-link-${str(el.props, 'variant')}`)}"${attr('href', href?.url)}>${ctx.children()}${href?.external ? '<span class="ext" aria-hidden="true">↗</span>' : ''}</a>`;
  },
  Tag: (el, ctx) => `<span class="hs-tag hs-tag-${escapeHtml(str(el.props, 'variant') ?? 'default')}">${ctx.children()}</span>`,
  StatusTag: (el, ctx) => `<span class="${cls('hs-status', bool(el.props, 'hollow') && 'hollow')}"><span class="dot dot-${escapeHtml(str(el.props, 'variant') ?? 'default')}"></span>${ctx.children()}</span>`,
  List: (el, ctx) => {
    const variant = str(el.props, 'variant') ?? 'unordered';
    const tag = variant.startsWith('ordered') ? 'ol' : 'ul';
    return `<${tag} class="hs-list hs-list-${escapeHtml(variant)}">${el.childNodes.map((c) => `<li>${ctx.node(c)}</li>`).join('')}</${tag}>`;
  },
  Image: (el) => `<img class="hs-image"${attr('src', str(el.props, 'src'))}${attr('alt', str(el.props, 'alt') ?? '')}${attr('width', str(el.props, 'width'))}${attr('height', str(el.props, 'height'))}/>`,
  // Feedback
  Alert: (el, ctx) => `<div class="hs-alert hs-alert-${escapeHtml(str(el.props, 'variant') ?? 'info')}" role="alert">`
    + `<div class="hs-alert-title">${escapeHtml(str(el.props, 'title') ?? '')}</div><div class="hs-alert-body">${ctx.children()}</div></div>`,
  EmptyState: (el, ctx) => `<div class="${cls('hs-empty', str(el.props, 'layout') === 'vertical' ? 'vertical' : 'horizontal', bool(el.props, 'reverseOrder') && 'reverse')}">`
    + `<div class="hs-empty-image">${EMPTY_ILLUSTRATION}</div><div class="hs-empty-content">`
    + `${str(el.props, 'title') ? `<h3 class="hs-empty-title">${escapeHtml(str(el.props, 'title'))}</h3>` : ''}${ctx.children()}</div></div>`,
  ErrorState: (el, ctx) => `<div class="hs-empty vertical hs-error-state"><div class="hs-empty-image">${ERROR_ILLUSTRATION}</div><div class="hs-empty-content">`
    + `${str(el.props, 'title') ? `<h3 class="hs-empty-title">${escapeHtml(str(el.props, 'title'))}</h3>` : ''}${ctx.children()}</div></div>`,
  LoadingSpinner: (el) => `<div class="${cls('hs-loading', str(el.props, 'layout') === 'centered' && 'centered')}" role="status" aria-label="${escapeHtml(str(el.props, 'label') ?? '')}">`
    + `${SPINNER}${bool(el.props, 'showLabel') ? `<span>${escapeHtml(str(el.props, 'label') ?? '')}</span>` : ''}</div>`,
  ProgressBar: (el) => {
    const value = Number(el.props.value ?? 0);
    const max = Number(el.props.maxValue ?? el.props.valueMax ?? 100) || 100;
    const share = Math.max(0, Math.min(1, value / max));
    return `<div class="hs-progress hs-progress-${escapeHtml(str(el.props, 'variant') ?? 'success')}">`
      + `<div class="hs-progress-head"><span>${escapeHtml(str(el.props, 'title') ?? '')}</span><span>${bool(el.props, 'showPercentage') ? `${Math.round(share * 100)}%` : escapeHtml(str(el.props, 'valueDescription') ?? '')}</span></div>`
      + `<div class="hs-progress-track"><div style="width:${(share * 100).toFixed(1)}%"></div></div></div>`;
  },
  // Data
  DescriptionList: (el, ctx) => `<dl class="hs-dl ${str(el.props, 'direction') === 'row' ? 'row' : 'column'}">${ctx.children()}</dl>`,
  DescriptionListItem: (el, ctx) => `<div class="hs-dl-item"><dt>${escapeHtml(str(el.props, 'label') ?? '')}</dt><dd>${ctx.children()}</dd></div>`,
  Statistics: (_el, ctx) => `<div class="hs-stats">${ctx.children()}</div>`,
  StatisticsItem: (el, ctx) => `<div class="hs-stat"><div class="hs-stat-label">${escapeHtml(str(el.props, 'label') ?? '')}</div>`
    + `<div class="hs-stat-number">${escapeHtml(str(el.props, 'number') ?? '')}</div>${ctx.children()}</div>`,
  StatisticsTrend: (el) => {
    const up = str(el.props, 'direction') === 'increase';
    const color = str(el.props, 'color') ?? (up ? 'green' : 'red');
    return `<div class="hs-trend ${escapeHtml(color)}">${up ? '▲' : '▼'} ${escapeHtml(str(el.props, 'value') ?? '')}</div>`;
  },
  BarChart: barChart,
  LineChart: lineChart,
  Table: (el, ctx) => `<div class="hs-table-wrap"><table class="${cls('hs-table', bool(el.props, 'bordered') && 'bordered', bool(el.props, 'flush') && 'flush', str(el.props, 'density'))}">`
    + `${ctx.children()}</table>${bool(el.props, 'paginated') ? pager(el.props) : ''}</div>`,
  TableHead: (_el, ctx) => `<thead>${ctx.children()}</thead>`,
  TableBody: (_el, ctx) => `<tbody>${ctx.children()}</tbody>`,
  TableFooter: (_el, ctx) => `<tfoot>${ctx.children()}</tfoot>`,
  TableRow: (_el, ctx) => `<tr>${ctx.children()}</tr>`,
  TableHeader: (el, ctx) => {
    const sort = str(el.props, 'sortDirection');
    const glyph = sort !== undefined ? SORT_GLYPH[sort] : undefined;
    return `<th${alignStyle(el.props)}>${ctx.children()}${glyph ? ` <span class="${cls('sort', sort !== 'none' && 'active')}">${glyph}</span>` : ''}</th>`;
  },
  TableCell: (el, ctx) => `<td${alignStyle(el.props)}${attr('colspan', str(el.props, 'colSpan'))}>${ctx.children()}</td>`,
  // Actions
  Button: (el, ctx) => button(el, ctx),
  LoadingButton: (el, ctx) => button(el, ctx, true),
  ButtonRow: (_el, ctx) => `<div class="hs-button-row">${ctx.children()}</div>`,
  // Inputs
  Input: (el) => field(el, inputBox(str(el.props, 'type') === 'password' && str(el.props, 'value') ? '••••••••' : str(el.props, 'value') ?? str(el.props, 'defaultValue'), str(el.props, 'placeholder'))),
  TextArea: (el) => field(el, inputBox(str(el.props, 'value') ?? str(el.props, 'defaultValue'), str(el.props, 'placeholder'), 'textarea')),
  Textarea: (el) => field(el, inputBox(str(el.props, 'value') ?? str(el.props, 'defaultValue'), str(el.props, 'placeholder'), 'textarea')),
  NumberInput: (el) => field(el, inputBox(str(el.props, 'value') ?? str(el.props, 'defaultValue'), str(el.props, 'placeholder'))),
  StepperInput: (el) => field(el, inputBox(str(el.props, 'value') ?? str(el.props, 'defaultValue'), str(el.props, 'placeholder'), 'stepper')),
  CurrencyInput: (el) => {
    const value = str(el.props, 'value') ?? str(el.props, 'defaultValue');
    return field(el, inputBox(value === undefined ? undefined : `${str(el.props, 'currency') ?? ''} ${value}`.trim(), str(el.props, 'placeholder')));
  },
  DateInput: (el) => field(el, inputBox(dateText(el.props.value ?? el.props.defaultValue), 'YYYY-MM-DD', 'date')),
  SearchInput: (el) => field(el, inputBox(str(el.props, 'value') ?? str(el.props, 'defaultValue'), str(el.props, 'placeholder'), 'search')),
  Select: (el) => field(el, inputBox(optionLabel(el.props, el.props.value), str(el.props, 'placeholder') ?? 'Select…', 'select')),
  MultiSelect: (el) => {
    const values = Array.isArray(el.props.value) ? el.props.value as unknown[] : [];
    const labels = values.map((v) => optionLabel(el.props, v) ?? String(v));
    return field(el, inputBox(labels.join(', ') || undefined, str(el.props, 'placeholder') ?? 'Select…', 'select'));
  },
  Toggle: (el) => {
    const checked = bool(el.props, 'checked') || (el.props.checked === undefined && bool(el.props, 'initialIsChecked'));
    const display = str(el.props, 'labelDisplay') ?? 'inline';
    const label = display === 'hidden' ? '' : `<span class="hs-toggle-label">${escapeHtml(str(el.props, 'label') ?? '')}</span>`;
    const state = checked ? str(el.props, 'textChecked') : str(el.props, 'textUnchecked');
    return `<label class="${cls('hs-toggle', display === 'top' && 'top')}">${display === 'top' ? label : ''}<span class="${cls('hs-switch', checked && 'on')}"></span>`
      + `${state ? `<span class="hs-toggle-state">${escapeHtml(state)}</span>` : ''}${display === 'inline' ? label : ''}</label>`;
  },
  Checkbox: (el, ctx) => toggleInput(el, ctx, 'checkbox'),
  RadioButton: (el, ctx) => toggleInput(el, ctx, 'radio'),
  ToggleGroup: (el) => {
    const options = Array.isArray(el.props.options) ? el.props.options as Array<{ label: string; value: string; description?: string }> : [];
    const value = el.props.value;
    const chosen = (v: string): boolean => (Array.isArray(value) ? value.includes(v) : value === v);
    const kind = str(el.props, 'toggleType') === 'radioButtonList' ? 'radio' : 'checkbox';
    return field(el, `<span class="${cls('hs-toggle-group', bool(el.props, 'inline') && 'inline')}">${options.map((o) => `<span class="hs-check">`
      + `<span class="${cls(`hs-${kind}`, chosen(o.value) && 'on')}"></span><span>${escapeHtml(o.label)}</span></span>`).join('')}</span>`);
  },
};

/** Names of the HubSpot components the mapping draws. */
export const MAPPED_COMPONENTS: readonly string[] = Object.keys(MAPPINGS).sort();

/** Every element in `node`'s tree with no mapping, with its path (ancestor names) for the error message. */
const unmapped = (node: RenderedNode, path: string[] = []): Array<{ name: string; path: string }> => {
  if (isRenderedTextNode(node)) return [];
  const here = isRenderedElementNode(node) ? [...path, node.name] : path;
  const own = isRenderedElementNode(node) && !(node.name in MAPPINGS) ? [{ name: node.name, path: here.join(' > ') }] : [];
  return [...own, ...('childNodes' in node ? node.childNodes.flatMap((child) => unmapped(child, here)) : [])];
};

/**
 * The rendered tree (a renderer's root node, or any node of it) as HTML. Throws `UnmappedComponentError` naming every
 * component in the tree that has no mapping.
 */
export const treeToHtml = (node: RenderedNode): string => {
  const missing = unmapped(node);
  if (missing.length > 0) throw new UnmappedComponentError(missing);
  const draw = (n: RenderedNode): string => {
    if (isRenderedTextNode(n)) return escapeHtml(n.text);
    const children = (): string => ('childNodes' in n ? n.childNodes.map(draw).join('') : '');
    if (!isRenderedElementNode(n)) return children();
    return MAPPINGS[n.name]!(asElement(n), { children, node: draw });
  };
  return draw(node);
};
