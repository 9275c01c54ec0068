import type { RouteModule } from '../http/app.ts';

export const deploymentsRoutes: RouteModule = () => {};
