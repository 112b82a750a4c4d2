/**
 * Runs tasks with the same key one after another, in call order; other keys run alongside.
 * A task that fails does not stop the next one. The key's entry goes when its last task ends.
 */
export class KeyedSerial {
  private readonly tails = new Map<string, Promise<unknown>>()

  run<T>(key: string, task: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key) ?? Promise.resolve()
    const mine = previous.then(task)
    const tail = mine.catch(() => undefined)
    this.tails.set(key, tail)
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key)
    })
    return mine
  }
}
