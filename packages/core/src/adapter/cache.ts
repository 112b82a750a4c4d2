/**
 * Results of broker calls that make or look something up once (a topic, a queue, its URL),
 * shared by everyone who asks meanwhile. A failed call is forgotten, so the next caller tries
 * again; `keep` can refuse other results too (say, "not found"). `forget` drops an entry after
 * the broker lost what it describes.
 */
export class PromiseCache<V, K = string> {
  private readonly entries = new Map<K, Promise<V>>()

  constructor(private readonly keep: (value: V) => boolean = () => true) {}

  get(key: K, make: () => Promise<V>): Promise<V> {
    let entry = this.entries.get(key)
    if (entry) return entry
    entry = make()
    const made = entry
    this.entries.set(key, made)
    const drop = () => {
      if (this.entries.get(key) === made) this.entries.delete(key)
    }
    made.then((value) => this.keep(value) || drop(), drop)
    return made
  }

  /** The entry if there is one, without making it. */
  peek(key: K): Promise<V> | undefined {
    return this.entries.get(key)
  }

  forget(key: K): void {
    this.entries.delete(key)
  }

  clear(): void {
    this.entries.clear()
  }
}
