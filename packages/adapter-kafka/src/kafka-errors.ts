/** kafkajs errors nest their cause; the message of the innermost one says what really happened. */
export function errorMessageOf(error: unknown): string {
  if (!(error instanceof Error)) return String(error)
  const cause = (error as { cause?: unknown }).cause
  const inner =
    cause instanceof Error && cause.message && cause.message !== error.message ? cause.message : ''
  return inner ? `${error.message} (${inner})` : error.message
}
