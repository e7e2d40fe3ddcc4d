import { unauthorized } from '../errors'
import type { GatewayKeyStore, Principal } from '../keys/gateway-keys'

/** The gateway key in `Authorization: Bearer sy_…`, or a 401 saying what is wrong with it. */
export async function authorizeKey(
	gatewayKeys: Pick<GatewayKeyStore, 'authenticate'>,
	request: Request,
): Promise<Principal> {
	const header = request.headers.get('authorization') ?? ''
	const key = header.toLowerCase().startsWith('bearer ') ? header.slice(7).trim() : ''
	const principal = key ? await gatewayKeys.authenticate(key) : null
	if (!principal) {
		throw unauthorized(
			key
				? 'Incorrect API key provided: use a Switchyard gateway key (sy_…)'
				: 'Missing API key: send Authorization: Bearer sy_…',
			'invalid_api_key',
		)
	}
	return principal
}
