import { randomUUID } from 'node:crypto'
import { SNSClient } from '@aws-sdk/client-sns'
import { SQSClient } from '@aws-sdk/client-sqs'
import type { Delivery, Logger } from '@omnibus/core'
import type { AwsTransportOptions } from '../src/index.js'

/** Loopback moto by default; OMNIBUS_AWS_ENDPOINT points the tests elsewhere. */
export const endpoint = process.env.OMNIBUS_AWS_ENDPOINT ?? 'http://127.0.0.1:4566'
export const region = process.env.AWS_REGION ?? 'us-east-1'
export const credentials = {
  accessKeyId: process.env.AWS_ACCESS_KEY_ID ?? 'test',
  secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY ?? 'test',
}

export function testOptions(extra: AwsTransportOptions = {}): AwsTransportOptions {
  return { endpoint, region, credentials, waitTimeSeconds: 1, ...extra }
}

export const sdkConfig = { endpoint, region, credentials }
export const newSns = () => new SNSClient(sdkConfig)
export const newSqs = () => new SQSClient(sdkConfig)

export const uid = (label: string) => `${label}-${randomUUID().slice(0, 8)}`

/** Polls until `check` holds, failing after `timeoutMs` with `what`. */
export async function waitFor(what: string, check: () => boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
}

/** A handler that collects what it gets. */
export function collector() {
  const got: Delivery[] = []
  return { got, handler: async (d: Delivery) => void got.push(d) }
}

/** A logger that keeps records, to assert on what the transport reported. */
export function memoryLogger() {
  const records: { level: string; message: string; fields?: Record<string, unknown> }[] = []
  const at = (level: string) => (message: string, fields?: Record<string, unknown>) =>
    void records.push(fields ? { level, message, fields } : { level, message })
  const logger: Logger = { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') }
  return { records, logger }
}
