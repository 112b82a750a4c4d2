import { describe, expect, it } from 'vitest'
import { Outage } from '../src/adapter/index.js'
import type { Logger } from '../src/index.js'

function recording() {
  const lines: { level: string; message: string; fields?: Record<string, unknown> }[] = []
  const at = (level: string) => (message: string, fields?: Record<string, unknown>) =>
    void lines.push({ level, message, fields })
  const logger: Logger = { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') }
  return { lines, logger }
}

describe('adapter toolkit: Outage', () => {
  it('logs the first failure of an outage once at warn and its end once at info with outageMs', () => {
    const { lines, logger } = recording()
    const outage = new Outage(logger, { group: 'g' })
    outage.end('back') // no outage open: nothing to say
    expect(outage.open).toBe(false)
    expect(outage.begin('lost the broker', { error: 'ECONNREFUSED' })).toBe(true)
    expect(outage.begin('lost the broker', { error: 'ECONNREFUSED' })).toBe(false)
    expect(outage.open).toBe(true)
    outage.end('back')
    outage.end('back')
    expect(lines).toEqual([
      { level: 'warn', message: 'lost the broker', fields: { group: 'g', error: 'ECONNREFUSED' } },
      { level: 'info', message: 'back', fields: { group: 'g', outageMs: expect.any(Number) } },
    ])
    // The next failure opens a new outage.
    expect(outage.begin('lost the broker')).toBe(true)
    expect(lines).toHaveLength(3)
  })
})
