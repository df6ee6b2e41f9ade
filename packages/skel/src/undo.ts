// SPDX-License-Identifier: Apache-2.0
// The one way an ADD undoes what it made when a later step fails: each step that makes something
// pushes the step that removes it; success dismisses the stack, failure runs it newest first.

/** One undo step; its failure is swallowed (the ADD's own error is what the runtime must see). */
export type UndoStep = () => unknown;

/**
 * A stack of undo steps that runs, newest first, when it is disposed without having been
 * dismissed: `await using undo = new UndoStack()` runs it when the ADD throws, and
 * `undo.dismiss()` as the ADD's last step keeps everything it made.
 *
 * @example
 * ```ts
 * await using undo = new UndoStack();
 * const lease = await request.delegate(conf.ipam.type);
 * undo.defer(() => request.delegate(conf.ipam.type, undefined, { command: 'DEL' }));
 * await host.link.add({ kind: 'dummy', name: 'd0' });
 * undo.defer(() => host.link.del({ name: 'd0' }));
 * undo.dismiss(); // success: nothing is undone
 * return lease;
 * ```
 */
export class UndoStack implements AsyncDisposable {
  readonly #steps: UndoStep[] = [];
  #dismissed = false;

  /** Push the step that undoes what was just made. */
  defer(step: UndoStep): void {
    this.#steps.push(step);
  }

  /** Keep everything: the steps pushed so far are dropped and never run. */
  dismiss(): void {
    this.#dismissed = true;
    this.#steps.length = 0;
  }

  /** Run every step not yet run, newest first, each step's failure ignored; then the stack is empty. */
  async run(): Promise<void> {
    while (this.#steps.length > 0) {
      const step = this.#steps.pop()!;
      try {
        await step();
      } catch {
        // Undo is best effort: the error the runtime sees is the one that made us undo.
      }
    }
  }

  /** Run the steps unless dismissed: what `await using` calls when the block ends. */
  async [Symbol.asyncDispose](): Promise<void> {
    if (!this.#dismissed) await this.run();
  }

  /**
   * Run `body` with a fresh stack: on a throw the stack runs and the error passes on; on success
   * it is dismissed. For callers that cannot use `await using`.
   */
  static async guard<T>(body: (undo: UndoStack) => Promise<T>): Promise<T> {
    const undo = new UndoStack();
    try {
      const value = await body(undo);
      undo.dismiss();
      return value;
    } finally {
      await undo[Symbol.asyncDispose]();
    }
  }
}
