import { describeError } from '@omnibus/core/adapter'

/** kafkajs errors nest their cause; the message of the innermost one says what really happened. */
export const errorMessageOf = describeError
