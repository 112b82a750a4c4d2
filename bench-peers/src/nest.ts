// What the NestJS drivers share: a microservice whose one controller handles one event pattern.
// Decorators are applied by hand because the pattern (the topic or routing key) is made per run.
import 'reflect-metadata'
import { Controller, type INestMicroservice, Logger, Module } from '@nestjs/common'
import { NestFactory } from '@nestjs/core'
import { Ctx, EventPattern, type MicroserviceOptions, Payload } from '@nestjs/microservices'

// Nest logs connection events through its static logger; the bench prints only its figures.
Logger.overrideLogger(false)

/** Starts a Nest microservice that calls `handle(data, context)` for each event of `pattern`. */
export async function microservice(
  pattern: string,
  options: MicroserviceOptions,
  handle: (data: unknown, context: unknown) => void,
): Promise<INestMicroservice> {
  class Handler {
    onEvent(data: unknown, context: unknown) {
      handle(data, context)
    }
  }
  const method = Object.getOwnPropertyDescriptor(Handler.prototype, 'onEvent')!
  EventPattern(pattern)(Handler.prototype, 'onEvent', method)
  Payload()(Handler.prototype, 'onEvent', 0)
  Ctx()(Handler.prototype, 'onEvent', 1)
  Controller()(Handler)
  class App {}
  Module({ controllers: [Handler] })(App)
  const app = await NestFactory.createMicroservice<MicroserviceOptions>(App, { ...options, logger: false })
  await app.listen()
  return app
}
