import type { RouteModule } from '../http/app.ts';

export const usageRoutes: RouteModule = () => {};
