import { escapeHtml } from './html.ts';

// The page around a drawn card: a HubSpot-like record tab card (or settings page) with a caption naming the state,
// and the index page listing every preview.

export type PreviewFrame = {
  /** `company-card`, `deal-card`, `settings` … */
  surface: string;
  /** What the surface is called on the page: "Company card". */
  surfaceLabel: string;
  /** The card's title as HubSpot shows it (its name in the card's -hsmeta.json), or the settings page's heading. */
  title: string;
  /** The state's short name: "matched with history". */
  state: string;
  /** One or two sentences on what is shown and where its data came from. */
  description: string;
  kind: 'card' | 'settings';
};

const CSS = `
*{box-sizing:border-box}
body{margin:0;background:#f5f8fa;color:#33475b;font:14px/1.5 "Lexend Deca","Avenir Next","Helvetica Neue",Helvetica,Arial,"Liberation Sans",sans-serif}
.frame{width:840px;padding:20px}
.caption{margin:0 0 12px;color:#516f90;font-size:13px}
.caption strong{color:#33475b}
.hs-card{background:#fff;border:1px solid #cbd6e2;border-radius:4px;box-shadow:0 1px 3px rgba(45,62,80,.08)}
.hs-card-header{display:flex;align-items:center;justify-content:space-between;padding:14px 20px;border-bottom:1px solid #dfe3eb}
.hs-card-title{font-size:16px;font-weight:700;color:#33475b}
.hs-card-app{font-size:12px;color:#7c98b6}
.hs-card-body{padding:20px;display:flex;flex-direction:column;gap:12px}
.settings .hs-card-header{padding:18px 24px}.settings .hs-card-title{font-size:20px}.settings .hs-card-body{padding:24px}
.hs-flex{display:flex;min-width:0}.hs-flex>*{min-width:0}
.hs-grid{display:grid}
.hs-text{margin:0;color:#33475b}.hs-text.micro{font-size:12px;color:#516f90}
.hs-heading{margin:0;font-size:16px;font-weight:700;line-height:1.35;color:#33475b}
.hs-link{color:#0091ae;text-decoration:none;font-weight:500}.hs-link .ext{margin-left:3px;font-size:11px}
.hs-divider{border:0;border-top:1px solid #dfe3eb;width:100%}
.hs-tag{display:inline-block;align-self:flex-start;padding:1px 8px;border:1px solid #cbd6e2;border-radius:3px;background:#eaf0f6;font-size:12px;font-weight:600;line-height:20px;color:#33475b}
.hs-tag-success{background:#e5f8f6;border-color:#00bda5}.hs-tag-info{background:#e5f5f8;border-color:#7fd1de}
.hs-tag-warning{background:#fef8f0;border-color:#f5c26b}.hs-tag-error,.hs-tag-danger{background:#fde8e9;border-color:#f2545b}
.hs-status{display:inline-flex;align-items:center;gap:6px;font-size:13px;white-space:nowrap}
.hs-status .dot{width:8px;height:8px;border-radius:50%;background:#7c98b6}
.dot-success{background:#00bda5!important}.dot-info{background:#3d8fd6!important}.dot-warning{background:#f5c26b!important}.dot-danger{background:#f2545b!important}
.hs-status.hollow .dot{background:#fff!important;border:2px solid #7c98b6}
.hs-stats{display:flex;flex-wrap:wrap;gap:0;border:1px solid #dfe3eb;border-radius:3px}
.hs-stat{flex:1 1 150px;padding:12px 16px;border-right:1px solid #dfe3eb}.hs-stat:last-child{border-right:0}
.hs-stat-label{font-size:11px;font-weight:600;letter-spacing:.04em;text-transform:uppercase;color:#516f90}
.hs-stat-number{font-size:22px;font-weight:300;color:#33475b;white-space:nowrap}
.hs-trend{font-size:12px}.hs-trend.green{color:#00a38d}.hs-trend.red{color:#d94c53}
.hs-chart{margin:0;padding:12px 12px 8px;border:1px solid #dfe3eb;border-radius:3px}
.hs-chart figcaption{font-weight:600;margin-bottom:4px}
.hs-chart svg{display:block}.hs-chart .grid{stroke:#eaf0f6}.hs-chart .zero{stroke:#99afc4}
.hs-chart text{font-family:inherit;fill:#516f90}.hs-chart .tick{font-size:11px}.hs-chart .axis{font-size:12px;font-weight:600}.hs-chart .value{font-size:11px;fill:#33475b;font-weight:600}
.hs-chart-legend{display:flex;gap:16px;font-size:12px;color:#516f90;padding:4px 0 0 64px}.hs-chart-legend i{display:inline-block;width:10px;height:10px;border-radius:2px;margin-right:6px}
.hs-table-wrap{overflow:hidden}
.hs-table{width:100%;border-collapse:collapse;font-size:13px}
.hs-table th{background:#f5f8fa;color:#33475b;font-size:11px;font-weight:600;letter-spacing:.04em;text-transform:uppercase;text-align:left;padding:8px 10px;border-bottom:1px solid #cbd6e2;white-space:nowrap}
.hs-table td{padding:8px 10px;border-bottom:1px solid #dfe3eb;vertical-align:middle}
.hs-table.bordered{border:1px solid #cbd6e2}.hs-table.bordered td,.hs-table.bordered th{border-right:1px solid #dfe3eb}
.hs-table.condensed td,.hs-table.compact td{padding:4px 8px}
.hs-table .sort{color:#99afc4;font-size:10px}.hs-table .sort.active{color:#0091ae}
.hs-pager{display:flex;justify-content:center;gap:4px;margin-top:10px;font-size:13px}
.hs-pager .page,.hs-pager .page-nav{min-width:28px;padding:2px 8px;text-align:center;border-radius:3px;color:#0091ae}
.hs-pager .page.current{background:#eaf0f6;color:#33475b;font-weight:600}.hs-pager .disabled{color:#b0c1d4}
.hs-dl{margin:0;display:flex;gap:16px 32px}.hs-dl.column{flex-direction:column}.hs-dl.row{flex-wrap:wrap}
.hs-dl dt{font-size:12px;font-weight:600;color:#516f90}.hs-dl dd{margin:2px 0 0}
.hs-alert{border:1px solid;border-left-width:4px;border-radius:3px;padding:12px 16px}
.hs-alert-title{font-weight:700;margin-bottom:4px}
.hs-alert-info{background:#e5f5f8;border-color:#7fd1de}.hs-alert-tip{background:#f6f9fc;border-color:#cbd6e2}
.hs-alert-warning{background:#fef8f0;border-color:#f5c26b}.hs-alert-success{background:#e5f8f6;border-color:#00bda5}
.hs-alert-danger,.hs-alert-error{background:#fde8e9;border-color:#f2545b}
.hs-alert-body{display:flex;flex-direction:column;gap:8px;align-items:flex-start}
.hs-btn{display:inline-flex;align-items:center;gap:6px;font:inherit;font-size:14px;font-weight:600;line-height:20px;padding:7px 16px;border-radius:3px;border:1px solid;cursor:pointer;text-decoration:none;white-space:nowrap}
.hs-btn-primary{background:#ff7a59;border-color:#ff7a59;color:#fff}
.hs-btn-secondary{background:#fff;border-color:#ff7a59;color:#ff7a59}
.hs-btn-destructive{background:#f2545b;border-color:#f2545b;color:#fff}
.hs-btn-transparent{background:transparent;border-color:transparent;color:#0091ae;padding-left:0;padding-right:0}
.hs-btn-xs,.hs-btn-extra-small{font-size:12px;padding:3px 10px}.hs-btn-sm,.hs-btn-small{font-size:13px;padding:5px 12px}
.hs-btn[disabled]{opacity:.5;cursor:default}
.hs-btn .hs-spinner{width:14px;height:14px}
.hs-card-body>.hs-btn,.hs-flex:not([style*=align-items])>.hs-btn,.hs-box>.hs-btn,.hs-alert-body>.hs-btn{align-self:flex-start}
.hs-button-row{display:flex;gap:8px;flex-wrap:wrap}
.hs-field{display:flex;flex-direction:column;gap:4px;min-width:220px}
.hs-field-label{font-size:14px;font-weight:600}.hs-field-label .req{color:#f2545b;margin-left:2px}
.hs-field-description{display:block;font-size:12px;color:#516f90}
.hs-field-message{font-size:12px;color:#516f90}.hs-field-message.error{color:#d94c53}
.hs-input{display:block;min-height:40px;padding:9px 12px;border:1px solid #cbd6e2;border-radius:3px;background:#f5f8fa;color:#33475b}
.hs-field.invalid .hs-input{border-color:#f2545b}
.hs-input .placeholder{color:#99afc4}
.hs-input.search{padding-right:36px;background:#f5f8fa url("data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' width='16' height='16' viewBox='0 0 16 16'%3E%3Ccircle cx='6.5' cy='6.5' r='5' fill='none' stroke='%230091ae' stroke-width='2'/%3E%3Cpath d='M10.5 10.5l4 4' stroke='%230091ae' stroke-width='2'/%3E%3C/svg%3E") no-repeat right 12px center}
.hs-input.select{position:relative;padding-right:32px;background:#fff}.hs-input.select::after{content:"▾";position:absolute;right:12px;color:#0091ae}
.hs-input.textarea{min-height:72px}
.hs-check{display:flex;align-items:flex-start;gap:8px;font-size:14px}
.hs-checkbox,.hs-radio{flex:none;width:16px;height:16px;margin-top:2px;border:1px solid #7c98b6;border-radius:2px;background:#fff}
.hs-radio{border-radius:50%}
.hs-checkbox.on{background:#0091ae url("data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' width='12' height='12' viewBox='0 0 12 12'%3E%3Cpath d='M2 6l3 3 5-6' fill='none' stroke='%23fff' stroke-width='2'/%3E%3C/svg%3E") center no-repeat;border-color:#0091ae}
.hs-radio.on{border:5px solid #0091ae}
.hs-toggle-group{display:flex;flex-direction:column;gap:6px}.hs-toggle-group.inline{flex-direction:row;gap:16px}
.hs-toggle{display:flex;align-items:center;gap:10px}.hs-toggle.top{flex-direction:column;align-items:flex-start;gap:4px}
.hs-toggle-label{font-weight:600}.hs-toggle-state{font-size:12px;color:#516f90}
.hs-switch{position:relative;width:40px;height:22px;border-radius:11px;background:#cbd6e2}
.hs-switch::after{content:"";position:absolute;top:3px;left:3px;width:16px;height:16px;border-radius:50%;background:#fff}
.hs-switch.on{background:#00bda5}.hs-switch.on::after{left:21px}
.hs-empty{display:flex;gap:24px;align-items:center;padding:16px 0}
.hs-empty.vertical{flex-direction:column;text-align:center}.hs-empty.reverse{flex-direction:row-reverse}
.hs-empty-content{display:flex;flex-direction:column;gap:8px;align-items:inherit;max-width:520px}
.hs-empty.vertical .hs-empty-content{align-items:center}
.hs-empty-title{margin:0;font-size:18px;font-weight:600}
.hs-loading{display:flex;align-items:center;gap:10px;color:#516f90}.hs-loading.centered{justify-content:center;padding:48px 0}
.hs-progress-head{display:flex;justify-content:space-between;font-size:12px;margin-bottom:4px}
.hs-progress-track{height:8px;border-radius:4px;background:#eaf0f6;overflow:hidden}.hs-progress-track div{height:100%;background:#00bda5}
.hs-progress-warning .hs-progress-track div{background:#f5c26b}.hs-progress-danger .hs-progress-track div{background:#f2545b}
.hs-tile{border:1px solid #dfe3eb;border-radius:3px;padding:16px;background:#fff}.hs-tile.compact{padding:8px}.hs-tile.flush{padding:0}
.hs-tabs .hs-tab-bar{display:flex;gap:24px;border-bottom:1px solid #dfe3eb;margin-bottom:12px}
.hs-tab{padding:8px 0;color:#516f90}.hs-tab.current{color:#33475b;font-weight:600;border-bottom:3px solid #0091ae}
.hs-accordion summary{font-weight:600;cursor:pointer;padding:6px 0}
.hs-list{margin:0;padding-left:20px}.hs-list-inline,.hs-list-inline-divided{display:flex;gap:12px;list-style:none;padding:0}
.hs-form{display:flex;flex-direction:column;gap:16px}
`;

const INDEX_CSS = `
body{margin:0;background:#f5f8fa;color:#33475b;font:14px/1.5 "Lexend Deca","Helvetica Neue",Helvetica,Arial,"Liberation Sans",sans-serif}
main{max-width:1100px;margin:0 auto;padding:24px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 12px}
p{color:#516f90;margin:0 0 8px}
ul{list-style:none;padding:0;margin:0;display:grid;grid-template-columns:repeat(auto-fill,minmax(320px,1fr));gap:16px}
li{background:#fff;border:1px solid #cbd6e2;border-radius:4px;overflow:hidden}
li a{color:inherit;text-decoration:none;display:block}
li .thumb{height:220px;overflow:hidden;border-bottom:1px solid #dfe3eb;background:#f5f8fa}li img{display:block;width:100%;height:auto}
li .text{padding:10px 14px}li strong{display:block}li span{font-size:12px;color:#516f90}
.files{font-size:12px;padding:0 14px 10px}.files a{display:inline;color:#0091ae;margin-right:10px}
`;

/** A whole page for one card in one state: the caption, the card frame and `body` (the card's HTML) inside it. */
export const previewPage = (frame: PreviewFrame, body: string): string => `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${escapeHtml(`${frame.surfaceLabel} · ${frame.state}`)}</title>
<style>${CSS}</style>
</head>
<body>
<div class="frame ${frame.kind}" id="preview">
<p class="caption"><strong>${escapeHtml(frame.surfaceLabel)} · ${escapeHtml(frame.state)}</strong><br>${escapeHtml(frame.description)}</p>
<section class="hs-card">
<header class="hs-card-header"><span class="hs-card-title">${escapeHtml(frame.title)}</span>${frame.kind === 'card' ? '<span class="hs-card-app">ARBridge</span>' : ''}</header>
<div class="hs-card-body">${body}</div>
</section>
</div>
</body>
</html>
`;

export type IndexEntry = { frame: PreviewFrame; html: string; png: string | null };

/** The index of every preview, grouped by surface, each with its picture (when taken) and links to its files. */
export const indexPage = (entries: readonly IndexEntry[], note: string): string => {
  const surfaces = [...new Set(entries.map((e) => e.frame.surfaceLabel))];
  const groups = surfaces.map((surface) => {
    const items = entries.filter((e) => e.frame.surfaceLabel === surface).map((e) => `<li><a href="${escapeHtml(e.html)}">`
      + (e.png ? `<div class="thumb"><img src="${escapeHtml(e.png)}" alt="${escapeHtml(`${surface}, ${e.frame.state}`)}"></div>` : '')
      + `<div class="text"><strong>${escapeHtml(e.frame.state)}</strong><span>${escapeHtml(e.frame.description)}</span></div></a>`
      + `<div class="files"><a href="${escapeHtml(e.html)}">HTML</a>${e.png ? `<a href="${escapeHtml(e.png)}">PNG</a>` : ''}</div></li>`).join('\n');
    return `<h2>${escapeHtml(surface)}</h2>\n<ul>\n${items}\n</ul>`;
  }).join('\n');
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>ARBridge cards preview</title><style>${INDEX_CSS}</style></head>
<body><main>
<h1>ARBridge cards preview</h1>
<p>${escapeHtml(note)}</p>
${groups}
</main></body>
</html>
`;
};
