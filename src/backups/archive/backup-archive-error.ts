/** Why a stored backup could not be read back: what restore and verification report. */
export type BackupProblem =
  | 'checksum-mismatch'
  | 'key-missing'
  | 'wrong-key'
  | 'corrupt-encryption'
  | 'corrupt-gzip'
  | 'corrupt-tar'
  | 'invalid-layout'
  | 'read-failed';

export class BackupArchiveError extends Error {
  override readonly name = 'BackupArchiveError';

  constructor(
    readonly problem: BackupProblem,
    message: string,
  ) {
    super(message);
  }
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
