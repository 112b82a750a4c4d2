import { createEvent, decodeMessage, encodeBinary, encodeStructured } from '@omnibus/core'
const PAD = 'x'.repeat(960)
const order = (i) => ({ orderId: `o-${i}`, customer: { id: `c-${i % 977}`, name: 'Ada Lovelace', email: 'ada@example.com', tier: 'gold' }, currency: 'EUR', placedAt: '2026-11-30T10:00:00.000Z', shipping: { street: '12 Analytical Engine Way', city: 'London', postcode: 'N1 9GU', country: 'GB' }, items: Array.from({ length: 9 }, (_, n) => ({ sku: `sku-${(i + n) % 1000}`, title: 'Stoneware mug, 350 ml', quantity: 1 + (n % 3), unitPrice: 12.5 + n })), total: 123.45, notes: 'Leave at the door' })
function run(label, data, f) {
  const count = 20000
  const pass = () => { const inputs = Array.from({ length: count }, (_, i) => data(i)); const s = process.cpuUsage(); for (const d of inputs) f(d); const u = process.cpuUsage(s); return count / (u.user + u.system) * 1e6 }
  pass(); const r = Array.from({ length: 5 }, pass).sort((a, b) => a - b)[2]
  console.log(label.padEnd(40), Math.round(r).toLocaleString())
}
const mk = (d) => createEvent({ type: 'com.acme.order.placed', source: 'urn:bench', data: d })
for (const [name, data] of [['pad', () => ({ sentAt: Date.now(), pad: PAD })], ['order', order]]) {
  run(`${name}: create only`, data, (d) => mk(d))
  run(`${name}: create+encodeBinary`, data, (d) => encodeBinary(mk(d), 'ce_'))
  run(`${name}: binary round trip`, data, (d) => { const w = encodeBinary(mk(d), 'ce_'); decodeMessage({ body: w.body, headers: w.headers, contentType: w.contentType }, ['ce_']) })
  run(`${name}: binary, data left unparsed`, data, (d) => { const w = encodeBinary(mk(d), 'ce_'); decodeMessage({ body: w.body, headers: w.headers, contentType: 'application/octet-stream' }, ['ce_']) })
  const pre = Array.from({ length: 20000 }, (_, i) => { const w = encodeBinary(mk(data(i)), 'ce_'); return w })
  let k = 0
  run(`${name}: decode binary only`, () => pre[k++ % pre.length], (w) => decodeMessage({ body: w.body, headers: w.headers, contentType: w.contentType }, ['ce_']))
  run(`${name}: decode binary, data unparsed`, () => pre[k++ % pre.length], (w) => decodeMessage({ body: w.body, headers: w.headers, contentType: 'application/octet-stream' }, ['ce_']))
  run(`${name}: structured round trip`, data, (d) => decodeMessage({ body: encodeStructured(mk(d)), headers: { 'content-type': 'application/cloudevents+json' } }, []))
}
