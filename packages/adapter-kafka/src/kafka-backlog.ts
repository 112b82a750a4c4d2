import type { Admin } from 'kafkajs'

/**
 * Messages of `topic` the group has not committed past: per partition, the high
 * watermark minus the committed offset (or minus the low watermark where the group
 * has committed nothing yet). What is being handled right now is counted: Omnibus
 * commits after a handler settles.
 */
export async function kafkaBacklog(admin: Admin, topic: string, groupId: string): Promise<number> {
  const [ends, [committed]] = await Promise.all([
    admin.fetchTopicOffsets(topic),
    admin.fetchOffsets({ groupId, topics: [topic] }),
  ])
  const positions = new Map(committed?.partitions.map((p) => [p.partition, Number(p.offset)]))
  let total = 0
  for (const { partition, high, low } of ends) {
    const at = positions.get(partition)
    total += Math.max(0, Number(high) - (at !== undefined && at >= 0 ? at : Number(low)))
  }
  return total
}
