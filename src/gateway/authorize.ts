import { unauthorized } from '../errors'
import type { GatewayKeyStore, Principal } from '../keys/gateway-keys'

/** The key of `Authorization: Bearer sy_…`, or of `x-api-key: sy_…` as the Anthropic SDKs send it. */
function presentedKey(request: Request): string {
	const header = request.headers.get('authorization') ?? ''
	if (header.toLowerCase().startsWith('bearer ')) return header.slice(7).trim()
	return request.headers.get('x-api-key')?.trim() ?? ''
}

/** The gateway key the request presents, or a 401 saying what is wrong with it. */
export async function authorizeKey(
	gatewayKeys: Pick<GatewayKeyStore, 'authenticate'>,
	request: Request,
): Promise<Principal> {
	const key = presentedKey(request)
	const principal = key ? await gatewayKeys.authenticate(key) : null
	if (!principal) {
		throw unauthorized(
			key
				? 'Incorrect API key provided: use a Switchyard gateway key (sy_…)'
				: 'Missing API key: send Authorization: Bearer sy_… (or x-api-key: sy_…)',
			'invalid_api_key',
		)
	}
	return principal
}
