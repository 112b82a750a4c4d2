import { adapterError, errorIs, isConnectionError, OmnibusError } from '@omnibus/core/adapter'

/** The queue is not there (never made, deleted, or the broker lost it in a restart). */
export const isQueueMissing = (error: unknown): boolean =>
  errorIs(error, 'QueueDoesNotExist', 'AWS.SimpleQueueService.NonExistentQueue')

/** The topic is not there. */
export const isTopicMissing = (error: unknown): boolean => errorIs(error, 'NotFoundException', 'NotFound')

/** The broker could not be reached at all (down, restarting, network): worth waiting and trying again. */
export const isUnreachable = (error: unknown): boolean =>
  isConnectionError(error) || errorIs(error, 'TimeoutError')

/** Worth trying again: unreachable, throttled, or the service failed (5xx). */
export function isTransient(error: unknown): boolean {
  const { name = '', $metadata } = (error ?? {}) as { name?: string; $metadata?: { httpStatusCode?: number } }
  const status = $metadata?.httpStatusCode ?? 0
  return isUnreachable(error) || status >= 500 || status === 429 || /Throttl/.test(name)
}

export const isCode = (error: unknown, code: OmnibusError['code']): boolean =>
  error instanceof OmnibusError && error.code === code

/** An OmnibusError with the adapter prefix and the broker's error as cause. */
export const awsError = (code: OmnibusError['code'], message: string, cause?: unknown): OmnibusError =>
  adapterError('aws', code, message, cause)
