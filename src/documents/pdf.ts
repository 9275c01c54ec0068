// Lays a document's content out as an A4 PDF with pdfkit (pure JavaScript). The font is DejaVu
// Sans from the `dejavu-fonts-ttf` package, embedded (subset) in the file: it covers Latin,
// Greek, Cyrillic and the currency signs a tenant's name, address or line description can hold.
import { createRequire } from 'node:module';
import PDFDocument from 'pdfkit';
import type { DocumentContent } from './content.ts';

const require = createRequire(import.meta.url);
const REGULAR = require.resolve('dejavu-fonts-ttf/ttf/DejaVuSans.ttf');
const BOLD = require.resolve('dejavu-fonts-ttf/ttf/DejaVuSans-Bold.ttf');

const MARGIN = 50;
const GAP = 6;

export async function renderDocumentPdf(content: DocumentContent, options: { creationDate?: Date } = {}): Promise<Buffer> {
  const doc = new PDFDocument({
    size: 'A4',
    margin: MARGIN,
    bufferPages: true,
    info: { Title: `${content.title} ${content.fileName}`, Creator: 'tenant-invoicing', ...(options.creationDate ? { CreationDate: options.creationDate } : {}) },
  });
  const chunks: Buffer[] = [];
  doc.on('data', (chunk: Buffer) => chunks.push(chunk));
  const finished = new Promise<Buffer>((resolve, reject) => {
    doc.on('end', () => resolve(Buffer.concat(chunks)));
    doc.on('error', reject);
  });
  doc.registerFont('regular', REGULAR);
  doc.registerFont('bold', BOLD);

  const left = MARGIN;
  const width = doc.page.width - 2 * MARGIN;
  const bottom = () => doc.page.height - MARGIN;
  const ensure = (height: number) => {
    if (doc.y + height > bottom()) doc.addPage();
  };

  // Title
  doc.font('bold').fontSize(22).fillColor('#222').text(content.title, left, MARGIN);
  doc.moveDown(0.5);

  // Parties, side by side
  const partyTop = doc.y;
  const half = (width - 20) / 2;
  let partyBottom = partyTop;
  for (const [i, party] of [content.supplier, content.customer].entries()) {
    const x = left + i * (half + 20);
    doc.font('bold').fontSize(10).text(party.heading, x, partyTop, { width: half });
    doc.font('regular').fontSize(10);
    for (const line of party.lines) doc.text(line, x, doc.y, { width: half });
    partyBottom = Math.max(partyBottom, doc.y);
  }
  doc.y = partyBottom + 14;

  // Facts
  const labelWidth = 150;
  for (const fact of content.facts) {
    doc.font('regular').fontSize(10);
    const h = Math.max(doc.heightOfString(fact.value, { width: width - labelWidth }), 12);
    ensure(h);
    const y = doc.y;
    doc.font('bold').text(fact.label, left, y, { width: labelWidth });
    doc.font('regular').text(fact.value, left + labelWidth, y, { width: width - labelWidth });
    doc.y = y + h + 2;
  }
  doc.moveDown(0.5);

  // Line tables, one per deployment
  for (const table of content.tables) {
    const widths = table.columns.map((c) => c.width * width);
    const xs = widths.map((_, i) => left + widths.slice(0, i).reduce((a, b) => a + b, 0));
    ensure(50);
    doc.y += 8;
    if (table.heading) {
      doc.font('bold').fontSize(11).text(table.heading, left, doc.y, { width });
      doc.y += 2;
    }
    const header = () => {
      doc.font('bold').fontSize(9);
      const y = doc.y;
      const h = Math.max(...table.columns.map((c, i) => doc.heightOfString(c.label, { width: widths[i]! - GAP })));
      doc.rect(left, y - 2, width, h + 4).fill('#eeeeee').fillColor('#222');
      table.columns.forEach((c, i) => doc.text(c.label, xs[i]! + GAP / 2, y, { width: widths[i]! - GAP, align: c.align }));
      doc.y = y + h + 4;
    };
    header();
    doc.font('regular').fontSize(9);
    for (const row of table.rows) {
      const h = Math.max(...row.map((cell, i) => doc.heightOfString(cell, { width: widths[i]! - GAP })));
      if (doc.y + h > bottom()) {
        doc.addPage();
        header();
        doc.font('regular').fontSize(9);
      }
      const y = doc.y;
      row.forEach((cell, i) => doc.text(cell, xs[i]! + GAP / 2, y, { width: widths[i]! - GAP, align: table.columns[i]?.align ?? 'left' }));
      doc.y = y + h + 3;
      doc.moveTo(left, doc.y - 1).lineTo(left + width, doc.y - 1).lineWidth(0.3).strokeColor('#cccccc').stroke();
    }
  }

  // Totals, right-aligned
  doc.y += 10;
  const totalsLabel = 230;
  const totalsValue = 110;
  for (const total of content.totals) {
    ensure(16);
    const y = doc.y;
    doc.font(total.strong ? 'bold' : 'regular').fontSize(total.strong ? 11 : 10);
    doc.text(total.label, left + width - totalsLabel - totalsValue, y, { width: totalsLabel, align: 'right' });
    doc.text(total.value, left + width - totalsValue, y, { width: totalsValue, align: 'right' });
    doc.y = Math.max(doc.y, y + 14) + 2;
  }

  // Notes
  if (content.notes.length > 0) {
    doc.y += 12;
    doc.font('regular').fontSize(9).fillColor('#555');
    for (const note of content.notes) {
      ensure(14);
      doc.text(note, left, doc.y, { width });
    }
    doc.fillColor('#222');
  }

  // DRAFT / VOID across every page
  if (content.mark) {
    const range = doc.bufferedPageRange();
    for (let i = range.start; i < range.start + range.count; i++) {
      doc.switchToPage(i);
      doc.save();
      const cx = doc.page.width / 2;
      const cy = doc.page.height / 2;
      doc.rotate(-30, { origin: [cx, cy] });
      doc.font('bold').fontSize(110).fillColor('#cc0000').fillOpacity(0.15);
      doc.text(content.mark, cx - 300, cy - 60, { width: 600, align: 'center', lineBreak: false });
      doc.restore();
    }
  }
  doc.end();
  return finished;
}
