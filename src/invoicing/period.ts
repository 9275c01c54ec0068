// A billing period is a calendar month in UTC: [start, end), start inclusive, end exclusive.
import { addMonths } from 'date-fns/addMonths';
import { format } from 'date-fns/format';
import { isValid } from 'date-fns/isValid';
import { startOfMonth } from 'date-fns/startOfMonth';
import { subMonths } from 'date-fns/subMonths';
import { UTCDate, utc } from '@date-fns/utc';
import { ValidationError } from '../platform/errors.ts';

export interface Period {
  /** "2026-04" */
  key: string;
  start: Date;
  end: Date;
}

const PERIOD_KEY = /^(\d{4})-(0[1-9]|1[0-2])$/;

export function periodOf(instant: Date): Period {
  const start = startOfMonth(instant, { in: utc });
  const end = addMonths(start, 1, { in: utc });
  return { key: format(start, 'yyyy-MM', { in: utc }), start: new Date(start.getTime()), end: new Date(end.getTime()) };
}

export function parsePeriod(key: string, field = 'period'): Period {
  const m = PERIOD_KEY.exec(key);
  if (!m) throw new ValidationError({ field, message: 'must be a month as YYYY-MM, e.g. 2026-04' });
  const start = new UTCDate(Number(m[1]), Number(m[2]) - 1, 1);
  if (!isValid(start)) throw new ValidationError({ field, message: 'is not a valid month' });
  return periodOf(start);
}

export function previousPeriod(instant: Date): Period {
  return periodOf(subMonths(periodOf(instant).start, 1, { in: utc }));
}

export function hasEnded(period: Period, now: Date): boolean {
  return now.getTime() >= period.end.getTime();
}
