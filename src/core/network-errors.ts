/**
 * Error codes of a connection that failed or dropped (Node's and undici's): the service on
 * the other side, or the network to it, may be back in a moment. A laptop's runner that
 * changes networks sees the unreachable and DNS codes; a restarting server, the refusals.
 */
export const DROPPED_CONNECTION_CODES: ReadonlySet<string> = new Set([
  ...['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN'],
  ...['UND_ERR_SOCKET', 'UND_ERR_CONNECT_TIMEOUT'],
]);
