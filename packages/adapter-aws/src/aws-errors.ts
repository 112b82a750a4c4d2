import { adapterError, errorMessage, OmnibusError } from '@omnibus/core/adapter'

/** What the SDK's errors carry that we look at. */
interface AwsLikeError {
  name?: string
  code?: string
  Code?: string
  $metadata?: { httpStatusCode?: number }
}

function fields(error: unknown): AwsLikeError {
  return typeof error === 'object' && error !== null ? (error as AwsLikeError) : {}
}

/** The queue is not there (never made, deleted, or the broker lost it in a restart). */
export function isQueueMissing(error: unknown): boolean {
  const { name, Code } = fields(error)
  return (
    name === 'QueueDoesNotExist' ||
    name === 'AWS.SimpleQueueService.NonExistentQueue' ||
    Code === 'AWS.SimpleQueueService.NonExistentQueue'
  )
}

/** The topic is not there. */
export function isTopicMissing(error: unknown): boolean {
  const { name, Code } = fields(error)
  return name === 'NotFoundException' || name === 'NotFound' || Code === 'NotFound'
}

/** The broker could not be reached at all (down, restarting, network): worth waiting and trying again. */
export function isUnreachable(error: unknown): boolean {
  const { name, code } = fields(error)
  if (code && /^(ECONNREFUSED|ECONNRESET|EPIPE|ETIMEDOUT|EHOSTUNREACH|ENOTFOUND|EAI_AGAIN)$/.test(code))
    return true
  return name === 'TimeoutError' || /ECONNREFUSED|ECONNRESET|socket hang up/.test(errorMessage(error))
}

/** Worth trying again: unreachable, throttled, or the service failed (5xx). */
export function isTransient(error: unknown): boolean {
  const { name = '', $metadata } = fields(error)
  const status = $metadata?.httpStatusCode ?? 0
  return isUnreachable(error) || status >= 500 || status === 429 || /Throttl/.test(name)
}

export const isCode = (error: unknown, code: OmnibusError['code']): boolean =>
  error instanceof OmnibusError && error.code === code

/** An OmnibusError with the adapter prefix and the broker's error as cause. */
export const awsError = (code: OmnibusError['code'], message: string, cause?: unknown): OmnibusError =>
  adapterError('aws', code, message, cause)
