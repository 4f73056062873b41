import type Docker from 'dockerode';

/** The engine answered the pull, but with an error inside its progress stream (unknown tag, denied, no route). */
export class PullFailedError extends Error {}

type ProgressEvent = { error?: unknown; errorDetail?: { message?: unknown } };

/** Pull failures come as events inside a 200 stream, not as an HTTP error. */
export function pullError(events: readonly ProgressEvent[]): string | null {
  for (const event of events) {
    const message = event.errorDetail?.message ?? event.error;
    if (message) return typeof message === 'string' ? message : JSON.stringify(message);
  }
  return null;
}

/** Pulls `reference` to the end of its progress stream; rejects with `PullFailedError` when the engine reports a failure. */
export async function pullImage(docker: Docker, reference: string, signal?: AbortSignal): Promise<void> {
  const stream = await docker.pull(reference, { abortSignal: signal });
  const events = await new Promise<ProgressEvent[]>((resolve, reject) =>
    docker.modem.followProgress(stream, (error: Error | null, output: ProgressEvent[]) => (error ? reject(error) : resolve(output))),
  );
  signal?.throwIfAborted();
  const failure = pullError(events);
  if (failure !== null) throw new PullFailedError(failure);
}
