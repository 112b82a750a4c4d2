/**
 * Message bodies as UTF-8 bytes, written into shared slabs as Buffer.from
 * writes small strings into Node's 8 KiB pool, but with larger slabs and in
 * pieces: a structured body is its head and its data written one after the
 * other, never joined into one string first (joining cost a copy of the whole
 * body, and Buffer.from a new 8 KiB pool every six 1 KiB messages; together a
 * tenth of the memory transport's time). A body is a view of its slab; like a
 * pool slice, it keeps the slab alive while it lives, and like Node's pool the
 * slab is marked untransferable: a transfer of one body's ArrayBuffer to a
 * worker would otherwise empty every other body written into it.
 */
import { markAsUntransferable } from 'node:worker_threads'

const SLAB_BYTES = 64 * 1024
/** A body that may need more than this gets a buffer of its own (and leaves the slab to the small ones). */
const OWN_BUFFER_BYTES = 16 * 1024
/** UTF-8 takes at most 3 bytes per UTF-16 unit (4 for a pair of two). */
const MOST_BYTES_PER_UNIT = 3

let slab: Buffer | undefined
let used = 0

/** The slab with room for `most` more bytes, a fresh one when the current one is too full. */
function room(most: number): Buffer {
  if (slab === undefined || most > SLAB_BYTES - used) {
    slab = Buffer.allocUnsafeSlow(SLAB_BYTES)
    markAsUntransferable(slab.buffer)
    used = 0
  }
  return slab
}

/** `text` as UTF-8 bytes. */
export function utf8Bytes(text: string): Buffer {
  const most = MOST_BYTES_PER_UNIT * text.length
  if (most > OWN_BUFFER_BYTES) return Buffer.from(text, 'utf8')
  const into = room(most)
  const start = used
  used += into.write(text, start)
  return into.subarray(start, used)
}

/** `,"data":` and `,"data_base64":` as bytes. */
const MEMBERS = new Map([
  ['data', Buffer.from(',"data":', 'latin1')],
  ['data_base64', Buffer.from(',"data_base64":', 'latin1')],
])
const CLOSE_OBJECT = 0x7d

/**
 * The structured body: `head` (a JSON object) with `,"<member>":` and `data` (JSON text)
 * put in before its closing brace.
 */
export function structuredBytes(head: string, member: 'data' | 'data_base64', data: string): Buffer {
  const name = MEMBERS.get(member)!
  const most = MOST_BYTES_PER_UNIT * (head.length + data.length) + name.length
  if (most > OWN_BUFFER_BYTES) {
    return Buffer.from(`${head.slice(0, -1)}${head.length > 2 ? ',' : ''}"${member}":${data}}`, 'utf8')
  }
  const into = room(most)
  const start = used
  // The head's closing brace is its last byte: written, then overwritten.
  let at = start + into.write(head, start) - 1
  // An empty head `{}` takes no comma. A few bytes: a loop beats Buffer#copy's call.
  for (let k = head.length > 2 ? 0 : 1; k < name.length; k++) into[at++] = name[k]!
  at += into.write(data, at)
  into[at++] = CLOSE_OBJECT
  used = at
  return into.subarray(start, at)
}
