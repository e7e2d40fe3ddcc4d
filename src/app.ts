import { html } from '@elysiajs/html'
import { Elysia } from 'elysia'
import type { AppDeps } from './deps'
import { analyticsPlugin } from './plugins/analytics'
import { assetsPlugin } from './plugins/assets'
import { authPlugin } from './plugins/auth'
import { bodyLimitsPlugin } from './plugins/body-limits'
import { budgetsPlugin } from './plugins/budgets'
import { errorsPlugin } from './plugins/error-responses'
import { gatewayPlugin } from './plugins/gateway'
import { healthPlugin } from './plugins/health'
import { keysPlugin } from './plugins/keys'
import { metricsPlugin } from './plugins/metrics'
import { rulesPlugin } from './plugins/rules'
import { securityHeadersPlugin } from './plugins/security-headers'
import { usersPlugin } from './plugins/users'

/**
 * The whole server as one Elysia app; no listening and no environment reads here.
 *
 * Order matters: Elysia applies a plugin's hooks only to the routes registered after it. The gateway, the
 * health check and the metrics come before `html()`, whose global derive and response mapping would
 * otherwise run on every gateway request for nothing (docs/performance.md, "What this session's changes
 * did": the gateway registered before `html()`).
 */
export function createApp(deps: AppDeps) {
	return new Elysia()
		.use(errorsPlugin())
		.use(healthPlugin(deps))
		.use(metricsPlugin(deps))
		.use(gatewayPlugin(deps))
		.use(bodyLimitsPlugin())
		.use(html())
		.use(securityHeadersPlugin())
		.use(assetsPlugin())
		.use(authPlugin(deps))
		.use(keysPlugin(deps))
		.use(rulesPlugin(deps))
		.use(analyticsPlugin(deps))
		.use(usersPlugin(deps))
		.use(budgetsPlugin(deps))
}

export type App = ReturnType<typeof createApp>
