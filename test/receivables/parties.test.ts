// The supplier as tax invoices name it: configured, ABN verified, and required to issue in production.
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/platform/config.ts';
import { ValidationError } from '../../src/platform/errors.ts';
import { assertCanIssue, billedTo, supplierFromConfig } from '../../src/receivables/parties.ts';
import { formatAbn, normalizeAbn } from '../../src/tenants/abn.ts';

const production = { NODE_ENV: 'production', AUTH_JWT_SECRET: 'a-production-secret-of-at-least-32-chars!' };

describe('supplier and parties', () => {
  it('verifies ABNs with the ATO check digit', () => {
    expect(normalizeAbn('51 824 753 556')).toBe('51824753556');
    expect(normalizeAbn('53004085616')).toBe('53004085616');
    expect(normalizeAbn('51 824 753 557')).toBeNull();
    expect(normalizeAbn('01824753556')).toBeNull();
    expect(normalizeAbn('5182475355')).toBeNull();
    expect(normalizeAbn('51-824-753-556')).toBeNull();
    expect(formatAbn('51824753556')).toBe('51 824 753 556');
  });

  it('refuses to issue in production without SUPPLIER_ABN, and refuses a bad one at start-up', () => {
    const error = (() => {
      try {
        assertCanIssue(loadConfig(production));
      } catch (e) {
        return e;
      }
      return null;
    })();
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).field).toBe('SUPPLIER_ABN');
    expect(() => assertCanIssue(loadConfig({ ...production, SUPPLIER_ABN: '51 824 753 556' }))).not.toThrow();
    expect(() => assertCanIssue(loadConfig({ NODE_ENV: 'development' }))).not.toThrow();
    expect(() => loadConfig({ SUPPLIER_ABN: '12 345 678 901' })).toThrow(/SUPPLIER_ABN: is not a valid ABN/);
    expect(() => loadConfig({ INVOICE_NUMBER_PREFIX: 'inv-' })).toThrow(/INVOICE_NUMBER_PREFIX/);
  });

  it('freezes the parties as billed', () => {
    const config = loadConfig({ SUPPLIER_LEGAL_NAME: 'Platform Pty Ltd', SUPPLIER_ABN: '51824753556', SUPPLIER_EMAIL: 'billing@platform.example' });
    expect(supplierFromConfig(config)).toEqual({ legal_name: 'Platform Pty Ltd', abn: '51824753556', address: null, email: 'billing@platform.example' });
    expect(billedTo({ name: 'Acme', legalName: null, abn: null, billingEmail: null, billingAddress: null })).toEqual({ name: 'Acme', legal_name: 'Acme', abn: null, email: null, address: null });
  });
});
