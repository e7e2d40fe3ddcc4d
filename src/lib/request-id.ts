/**
 * The id every request is known by: in `x-switchyard-request-id`, in the request log, and in the server's
 * own error lines, so one id finds a request wherever it went.
 */
export const newRequestId = () => `req_${crypto.randomUUID().replaceAll('-', '')}`
