import type { TransportSpec } from '@omnibus/core/adapter'
import { describe, expect, it } from 'vitest'
import { aws, gcp, kafka, rabbitmq } from './brokers.js'
import { conversation, expectConversation, sdk } from './helpers.js'

type Case = [string, TransportSpec, { send: string; sendCommand?: string; process: string }]

// publish → process → follow-up send → process, with the real SDK, on every real broker and in
// both content modes (SNS/SQS has one: a structured JSON body, as SQS allows only 10 attributes).
const cases: Case[] = [
  ['kafka binary', kafka(), { send: 'kafka', process: 'kafka' }],
  ['kafka structured', { ...kafka(), mode: 'structured' }, { send: 'kafka', process: 'kafka' }],
  ['rabbitmq binary', rabbitmq(), { send: 'rabbitmq', process: 'rabbitmq' }],
  ['rabbitmq structured', { ...rabbitmq(), mode: 'structured' }, { send: 'rabbitmq', process: 'rabbitmq' }],
  ['aws structured', aws(), { send: 'aws.sns', sendCommand: 'aws_sqs', process: 'aws_sqs' }],
  ['gcp binary', gcp(), { send: 'gcp_pubsub', process: 'gcp_pubsub' }],
  ['gcp structured', { ...gcp(), mode: 'structured' }, { send: 'gcp_pubsub', process: 'gcp_pubsub' }],
]

describe('one order is one trace', () => {
  it.each(cases)('on %s', async (_name, transport, system) => {
    const telemetry = sdk()
    const result = await conversation(telemetry, transport)
    expectConversation(result, system)
    expect(result.spans).toHaveLength(4)
  })
})
