import type { RouteModule } from '../http/app.ts';

export const reportsRoutes: RouteModule = () => {};
