// Lays a document's content out as one self-contained HTML page (inline CSS, no external assets).
import type { DocumentContent } from './content.ts';

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => ESCAPES[ch]!);
}

const STYLE = `
body { font-family: "DejaVu Sans", Verdana, sans-serif; color: #222; margin: 2em auto; max-width: 60em; padding: 0 1em; position: relative; }
h1 { font-size: 1.8em; margin: 0 0 .5em; }
h2 { font-size: 1.05em; margin: 1.5em 0 .3em; }
.mark { position: fixed; top: 35%; left: 0; right: 0; text-align: center; font-size: 8em; font-weight: bold; color: rgba(200, 0, 0, .18); transform: rotate(-20deg); pointer-events: none; }
.parties { display: flex; gap: 3em; }
.parties div { flex: 1; }
.parties p { margin: .1em 0; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: .2em 1.5em; }
dl.facts dt { font-weight: bold; }
dl.facts dd { margin: 0; }
table { border-collapse: collapse; width: 100%; }
th, td { padding: .3em .5em; border-bottom: 1px solid #ddd; }
th { background: #f3f3f3; text-align: left; }
.right { text-align: right; font-variant-numeric: tabular-nums; }
table.totals { width: auto; margin-left: auto; margin-top: 1em; }
table.totals .strong { font-weight: bold; font-size: 1.1em; }
.notes { margin-top: 1.5em; font-size: .9em; color: #555; }
`;

export function renderDocumentHtml(content: DocumentContent): string {
  const e = escapeHtml;
  const party = (p: { heading: string; lines: string[] }, cls: string) =>
    `<div class="${cls}"><h2>${e(p.heading)}</h2>${p.lines.map((l) => `<p>${e(l)}</p>`).join('')}</div>`;
  const tables = content.tables
    .map((t) => {
      const head = t.columns.map((c) => `<th class="${c.align}">${e(c.label)}</th>`).join('');
      const rows = t.rows.map((r) => `<tr>${r.map((cell, i) => `<td class="${t.columns[i]?.align ?? 'left'}">${e(cell)}</td>`).join('')}</tr>`).join('');
      return `<section class="group">${t.heading ? `<h2>${e(t.heading)}</h2>` : ''}<table class="lines"><thead><tr>${head}</tr></thead><tbody>${rows}</tbody></table></section>`;
    })
    .join('\n');
  const totals = content.totals
    .map((t) => `<tr class="${t.strong ? 'strong' : ''}"><th>${e(t.label)}</th><td class="right">${e(t.value)}</td></tr>`)
    .join('');
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>${e(content.title)} ${e(content.fileName)}</title><style>${STYLE}</style></head>
<body>
${content.mark ? `<div class="mark" id="mark">${e(content.mark)}</div>` : ''}
<h1 id="title">${e(content.title)}</h1>
<div class="parties">${party(content.supplier, 'supplier')}${party(content.customer, 'customer')}</div>
<dl class="facts">${content.facts.map((f) => `<dt>${e(f.label)}</dt><dd>${e(f.value)}</dd>`).join('')}</dl>
${tables}
<table class="totals">${totals}</table>
${content.notes.length ? `<div class="notes">${content.notes.map((n) => `<p>${e(n)}</p>`).join('')}</div>` : ''}
</body>
</html>
`;
}
