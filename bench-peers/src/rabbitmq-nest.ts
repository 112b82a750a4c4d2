// NestJS microservices on RabbitMQ (Transport.RMQ), with the settings its documentation gives for
// what Omnibus does: `wildcards` (a topic exchange per channel, a durable queue bound to it, as
// Omnibus's events), persistent messages, manual acknowledgement after the handler (`noAck:
// false`, acking through the RmqContext) and prefetch 64. Publishing: ClientRMQ.emit, which
// resolves when amqp-connection-manager's confirm channel has the broker's confirm.
import { ClientRMQ, type RmqContext, Transport } from '@nestjs/microservices'
import amqp from 'amqplib'
import { lastValueFrom } from 'rxjs'
import { microservice } from './nest.js'
import { IN_FLIGHT, type Payload, type PeerDriver, unique } from './peer.js'

const url = process.env.OMNIBUS_RABBITMQ_URL ?? 'amqp://guest:guest@127.0.0.1:5672'
const PATTERN = 'bench.event'

export async function driver(): Promise<PeerDriver> {
  const exchanges = { publish: `bench.nest.publish.${unique()}`, e2e: `bench.nest.e2e.${unique()}` }
  const queue = `${exchanges.e2e}.bench`
  const client = (exchange: string) =>
    new ClientRMQ({ urls: [url], wildcards: true, exchange, exchangeType: 'topic', persistent: true })
  const clients = { publish: client(exchanges.publish), e2e: client(exchanges.e2e) }
  await Promise.all([clients.publish.connect(), clients.e2e.connect()])
  let app: Awaited<ReturnType<typeof microservice>> | undefined
  return {
    async publish(channel, payloads: Payload[]) {
      const c = clients[channel]
      await Promise.all(payloads.map((p) => lastValueFrom(c.emit(PATTERN, p), { defaultValue: undefined })))
    },
    async consume(received) {
      app = await microservice(
        PATTERN,
        {
          transport: Transport.RMQ,
          options: {
            urls: [url],
            queue,
            queueOptions: { durable: true },
            wildcards: true,
            exchange: exchanges.e2e,
            exchangeType: 'topic',
            noAck: false,
            prefetchCount: IN_FLIGHT,
          },
        },
        (data, context) => {
          received((data as Payload).sentAt)
          const ctx = context as RmqContext
          ;(ctx.getChannelRef() as amqp.Channel).ack(ctx.getMessage() as amqp.Message)
        },
      )
    },
    async close() {
      await app?.close()
      await Promise.all([clients.publish.close(), clients.e2e.close()])
      // Untimed: leave the shared broker as it was found.
      const connection = await amqp.connect(url)
      const ch = await connection.createChannel()
      await ch.deleteQueue(queue).catch(() => undefined)
      for (const name of Object.values(exchanges)) await ch.deleteExchange(name).catch(() => undefined)
      await connection.close()
    },
  }
}
