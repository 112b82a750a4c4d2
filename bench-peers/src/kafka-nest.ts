// NestJS microservices on Kafka (Transport.KAFKA, on kafkajs), with Omnibus's guarantees: an
// idempotent producer with acks=all, one emitBatch (one producer.send) per batch, topics of 3
// partitions (the adapter's default) made beforehand, a consumer group reading from the earliest
// offset with 3 partitions handled concurrently, offsets committed after the handler (kafkajs'
// auto-commit, as the raw side).
import { ClientKafka, Transport } from '@nestjs/microservices'
import { Kafka, logLevel } from 'kafkajs'
import { lastValueFrom } from 'rxjs'
import { microservice } from './nest.js'
import { type Payload, type PeerDriver, unique } from './peer.js'

const brokers = (process.env.OMNIBUS_KAFKA_BROKERS ?? '127.0.0.1:9092').split(',')
const PARTITIONS = 3

export async function driver(): Promise<PeerDriver> {
  const topics = { publish: `bench.nest.publish.${unique()}`, e2e: `bench.nest.e2e.${unique()}` }
  const group = `bench-nest-${unique()}`
  const admin = new Kafka({ brokers, clientId: 'bench-nest-admin', logLevel: logLevel.NOTHING }).admin()
  await admin.connect()
  await admin.createTopics({
    topics: Object.values(topics).map((topic) => ({ topic, numPartitions: PARTITIONS })),
    waitForLeaders: true,
  })
  const client = new ClientKafka({
    client: { clientId: 'bench-nest', brokers, logLevel: logLevel.NOTHING },
    producer: { idempotent: true, maxInFlightRequests: 1 },
    producerOnlyMode: true,
    send: { acks: -1 },
  })
  await client.connect()
  let app: Awaited<ReturnType<typeof microservice>> | undefined
  return {
    async publish(channel, payloads: Payload[]) {
      await lastValueFrom(client.emitBatch(topics[channel], { messages: payloads }), {
        defaultValue: undefined,
      })
    },
    async consume(received) {
      app = await microservice(
        topics.e2e,
        {
          transport: Transport.KAFKA,
          options: {
            client: { clientId: 'bench-nest', brokers, logLevel: logLevel.NOTHING },
            consumer: { groupId: group, sessionTimeout: 10_000, heartbeatInterval: 1000 },
            subscribe: { fromBeginning: true },
            run: { partitionsConsumedConcurrently: PARTITIONS },
            postfixId: '',
          },
        },
        (data) => received((data as Payload).sentAt),
      )
      // listen() returns once the consumer runs; wait until it has joined its group, as the other sides do.
      const deadline = Date.now() + 30_000
      for (;;) {
        const { groups } = await admin.describeGroups([group])
        if (groups[0]?.state === 'Stable' && groups[0].members.length > 0) break
        if (Date.now() > deadline) throw new Error('bench: the Nest consumer did not join its group')
        await new Promise((resolve) => setTimeout(resolve, 50))
      }
    },
    async close() {
      await app?.close()
      await client.close()
      await admin.deleteTopics({ topics: Object.values(topics) }).catch(() => undefined)
      await admin.disconnect()
    },
  }
}
