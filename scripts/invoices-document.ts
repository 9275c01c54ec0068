// npm run invoices:document -- --id <invoice or adjustment note id> [--html] [--out file]
// Writes the tax invoice (or adjustment note) as PDF, or HTML with --html, to --out (default:
// ./<number>.pdf, or draft-YYYY-MM.pdf for a draft) and prints where.
import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { renderDocumentHtml } from '../src/documents/html.ts';
import { isAdjustmentNote, loadAdjustmentNoteDocument, loadInvoiceDocument } from '../src/documents/load.ts';
import { renderDocumentPdf } from '../src/documents/pdf.ts';
import { DomainError } from '../src/platform/errors.ts';
import { startRuntime } from '../src/platform/runtime.ts';

const { values } = parseArgs({ options: { id: { type: 'string' }, html: { type: 'boolean', default: false }, out: { type: 'string' }, note: { type: 'boolean', default: false } } });
if (!values.id || !/^[0-9a-f-]{36}$/i.test(values.id)) {
  console.error('usage: npm run invoices:document -- --id <invoice or adjustment note id> [--html] [--out file]');
  process.exit(2);
}

const runtime = await startRuntime();
try {
  const { prisma, config } = runtime;
  // Staff view (principal null): the CLI runs with database access, like month-close.
  const note = values.note || (await isAdjustmentNote(prisma, values.id));
  const content = note ? await loadAdjustmentNoteDocument(prisma, null, values.id, config) : await loadInvoiceDocument(prisma, null, values.id, config);
  const out = resolve(values.out ?? `${content.fileName}.${values.html ? 'html' : 'pdf'}`);
  await writeFile(out, values.html ? renderDocumentHtml(content) : await renderDocumentPdf(content));
  console.log(`${content.title}${content.mark ? ` (${content.mark})` : ''} written to ${out}`);
  await runtime.shutdown(0);
} catch (error) {
  console.error(error instanceof DomainError ? `error: ${error.message}` : error);
  await runtime.shutdown(1);
}
