import type { RouteModule } from './app.ts';
import { tenantsRoutes } from '../tenants/routes.ts';
import { catalogRoutes } from '../catalog/routes.ts';
import { deploymentsRoutes } from '../deployments/routes.ts';
import { subscriptionsRoutes } from '../subscriptions/routes.ts';
import { resourcesRoutes } from '../resources/routes.ts';
import { usageRoutes } from '../usage/routes.ts';
import { invoicingRoutes } from '../invoicing/routes.ts';
import { costsRoutes } from '../costs/routes.ts';
import { operationsRoutes } from '../operations/routes.ts';
import { documentsRoutes } from '../documents/routes.ts';
import { reportsRoutes } from '../reports/routes.ts';

export const allRoutes: RouteModule[] = [
  tenantsRoutes,
  catalogRoutes,
  deploymentsRoutes,
  subscriptionsRoutes,
  resourcesRoutes,
  usageRoutes,
  invoicingRoutes,
  costsRoutes,
  operationsRoutes,
  documentsRoutes,
  reportsRoutes,
];
