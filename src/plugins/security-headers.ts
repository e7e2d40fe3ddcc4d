import { Elysia } from 'elysia'
import { isGatewayPath, pathOf } from './request-info'

// Alpine's standard build evaluates its expressions with `new Function`, hence 'unsafe-eval'; no inline
// script is needed anywhere, so user data that slipped into markup still could not run. Inline style
// attributes are allowed: htmx's swaps and Chart.js carry styles over with setAttribute('style').
const CONTENT_SECURITY_POLICY = [
	"default-src 'self'",
	"script-src 'self' 'unsafe-eval'",
	"style-src 'self' 'unsafe-inline'",
	"img-src 'self' data:",
	"connect-src 'self'",
	"frame-ancestors 'none'",
	"base-uri 'none'",
	"form-action 'self'",
].join('; ')

/** Hardening headers on every dashboard response. */
export const securityHeadersPlugin = () =>
	new Elysia({ name: 'security-headers' }).onRequest(function securityHeaders({ request, set }) {
		if (isGatewayPath(pathOf(request))) return
		set.headers['content-security-policy'] = CONTENT_SECURITY_POLICY
		set.headers['x-content-type-options'] = 'nosniff'
		set.headers['referrer-policy'] = 'same-origin'
		set.headers['x-frame-options'] = 'DENY'
	})
