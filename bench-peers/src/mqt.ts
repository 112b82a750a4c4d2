// What the message-queue-toolkit drivers share: the message schema (the toolkit validates every
// message with zod on publish and on consume) and the consumer's observability hook, unused here.
import { z } from 'zod/v4'

/** The toolkit's message: id, type and timestamp at the root (its defaults), the 1 KiB payload inside. */
export const message = (type: string) =>
  z.object({
    id: z.string(),
    type: z.literal(type),
    timestamp: z.string(),
    payload: z.object({ sentAt: z.number(), pad: z.string() }),
  })
export type Message = z.infer<ReturnType<typeof message>>

export const noObservability = { start() {}, startWithGroup() {}, stop() {}, addCustomAttributes() {} }
