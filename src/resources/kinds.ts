// The kinds of cloud resource we track. Plan allowances are keyed by the same kinds, so month
// close can match a resource's hours to its allowance; a kind outside this list could never match.
export const RESOURCE_KINDS = [
  'droplet',
  'volume',
  'spaces',
  'floating_ip',
  'load_balancer',
  'kubernetes',
  'database',
  'snapshot',
  'other',
] as const;

export type ResourceKind = (typeof RESOURCE_KINDS)[number];
