// Documents people read: a tax invoice or an adjustment note as PDF (default) or HTML. Same
// access rules as the JSON: staff read every tenant's, a tenant role only its own (else 404).
import { z } from 'zod';
import type { FastifyReply } from 'fastify';
import { authorize, type RouteModule } from '../http/app.ts';
import { NotFoundError } from '../platform/errors.ts';
import { AUTHENTICATED, responses } from '../http/responses.ts';
import type { DocumentContent } from './content.ts';
import { renderDocumentHtml } from './html.ts';
import { loadAdjustmentNoteDocument, loadInvoiceDocument } from './load.ts';
import { renderDocumentPdf } from './pdf.ts';

const documentQuery = z.object({ format: z.enum(['pdf', 'html']).default('pdf') });

/** Not JSON: the document itself (a string schema documents the body; Fastify sends it as is). */
const documentResponse = {
  produces: ['application/pdf', 'text/html'],
  response: responses({ 200: z.string().describe('the document: application/pdf by default, text/html with ?format=html') }, [...AUTHENTICATED, 404]),
};

export async function sendDocument(reply: FastifyReply, content: DocumentContent, format: 'pdf' | 'html') {
  if (format === 'html') {
    return reply.type('text/html; charset=utf-8').header('content-disposition', `inline; filename="${content.fileName}.html"`).send(renderDocumentHtml(content));
  }
  const pdf = await renderDocumentPdf(content);
  return reply.type('application/pdf').header('content-disposition', `inline; filename="${content.fileName}.pdf"`).send(pdf);
}

export const documentsRoutes: RouteModule = (app, deps) => {
  app.get(
    '/api/v1/invoices/:id/document',
    { schema: { tags: ['documents'], summary: 'The tax invoice as PDF (default) or HTML', params: z.object({ id: z.string() }), querystring: documentQuery, ...documentResponse } },
    async (request, reply) => {
      const principal = authorize(request);
      if (!z.uuid().safeParse(request.params.id).success) throw new NotFoundError('invoice');
      const content = await loadInvoiceDocument(deps.prisma, principal, request.params.id, deps.config);
      return sendDocument(reply, content, request.query.format);
    },
  );

  app.get(
    '/api/v1/adjustment-notes/:id/document',
    { schema: { tags: ['documents'], summary: 'The adjustment note as PDF (default) or HTML', params: z.object({ id: z.string() }), querystring: documentQuery, ...documentResponse } },
    async (request, reply) => {
      const principal = authorize(request);
      if (!z.uuid().safeParse(request.params.id).success) throw new NotFoundError('adjustment_note');
      const content = await loadAdjustmentNoteDocument(deps.prisma, principal, request.params.id, deps.config);
      return sendDocument(reply, content, request.query.format);
    },
  );
};
