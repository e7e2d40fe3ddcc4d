/** What a request says about itself (path, htmx, where it came from); plain functions over web-standard Request. */

export const isHtmx = (request: Request) => request.headers.get('hx-request') === 'true'

/** The path of a request's absolute URL, without parsing it: this runs for every gateway request. */
export function pathOf(request: Request): string {
	const url = request.url
	const start = url.indexOf('/', url.indexOf('//') + 2)
	if (start === -1) return '/'
	const end = url.slice(start).search(/[?#]/)
	return end === -1 ? url.slice(start) : url.slice(start, start + end)
}

export const isGatewayPath = (path: string) => path.startsWith('/v1/')

/** JSON APIs (`/api`, `/v1`) always answer JSON; everything else is the dashboard. */
export function wantsHtml(request: Request): boolean {
	const path = pathOf(request)
	if (path.startsWith('/api/') || isGatewayPath(path) || path === '/healthz') return false
	return isHtmx(request) || (request.headers.get('accept') ?? '').includes('text/html')
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS'])

export const isSafeMethod = (request: Request) => SAFE_METHODS.has(request.method)

export type RequestSite = 'same-origin' | 'cross-site' | 'unknown'

/**
 * Where a request came from, as the browser tells it: `Sec-Fetch-Site` when present, else `Origin`
 * compared with this host. Requests from non-browser clients carry neither and are `unknown`.
 */
export function requestSite(request: Request): RequestSite {
	const site = request.headers.get('sec-fetch-site')
	if (site) return site === 'same-origin' ? 'same-origin' : 'cross-site'
	const origin = request.headers.get('origin')
	if (!origin) return 'unknown'
	if (!URL.canParse(origin)) return 'cross-site'
	return new URL(origin).host === new URL(request.url).host ? 'same-origin' : 'cross-site'
}

/**
 * Whether the browser reached us over HTTPS: the request's own scheme, or, behind a proxy the admin trusts
 * (`TRUST_PROXY`), the scheme that proxy reports in `X-Forwarded-Proto` (its last entry, the one it wrote).
 * Cookies are `Secure` exactly then: a browser drops a `Secure` cookie sent over plain HTTP.
 */
export function arrivedOverHttps(request: Request, trustProxy: boolean): boolean {
	if (request.url.startsWith('https:')) return true
	if (!trustProxy) return false
	const forwarded = request.headers.get('x-forwarded-proto')?.split(',').at(-1)?.trim().toLowerCase()
	return forwarded === 'https'
}
