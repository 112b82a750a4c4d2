export { errorMessage } from '@omnibus/core/adapter'

/** The AMQP reply code of a broker error (404 not found, 406 precondition failed, …), if it is one. */
export function replyCode(error: unknown): number | undefined {
  return typeof error === 'object' && error !== null && 'code' in error && typeof error.code === 'number'
    ? error.code
    : undefined
}
