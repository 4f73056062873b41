import { Injectable } from '@nestjs/common';
import Docker from 'dockerode';
import { EngineUnavailableError } from '../common/errors/domain-errors';
import { AppConfigService } from '../config/app-config.service';
import { describeDockerHost, dockerOptionsFor } from './docker-host';

/** One engine's client, with the address it was made for (for messages and published ports). */
export interface Engine {
  docker: Docker;
  /** As written in DOCKER_HOST or the project's `dockerHost`; undefined = the local socket. */
  host: string | undefined;
  /** For people: the address without any password. */
  label: string;
}

const PING_TIMEOUT_MS = 3000;

/** dockerode's ping takes options (an abort signal) that its typings leave out. */
type PingWithOptions = (options: { abortSignal: AbortSignal }) => Promise<unknown>;

/** Error codes that mean "no engine there", as opposed to an engine answering with an error. */
const UNREACHABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOENT',
  'EACCES',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EPIPE',
]);

export function isEngineUnreachable(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && UNREACHABLE_CODES.has(code)) return true;
  // ssh2 reports connection and authentication failures through `level`.
  const level = (error as { level?: unknown } | null)?.level;
  return level === 'client-socket' || level === 'client-authentication' || level === 'client-timeout';
}

/** Turns "could not connect" into a domain error that names the engine; anything else passes through. */
export function engineError(engine: Engine, error: unknown): unknown {
  if (error instanceof EngineUnavailableError || !isEngineUnreachable(error)) return error;
  const code = (error as { code?: string }).code ?? (error as Error).message;
  return new EngineUnavailableError(`cannot reach the container engine at ${engine.label} (${code})`);
}

/**
 * One line for an execution's error or a response: which engine did not answer, the engine's
 * own message where it gave one (dockerode keeps it in `json.message`), else the error's.
 */
export function describeEngineFailure(engine: Engine, error: unknown): string {
  const mapped = engineError(engine, error);
  if (mapped instanceof EngineUnavailableError) return `${mapped.message}: ${String(mapped.details)}`;
  const engineMessage = (error as { json?: { message?: unknown } } | null)?.json?.message;
  const message = typeof engineMessage === 'string' ? engineMessage : error instanceof Error ? error.message : String(error);
  return message.replace(/\s+/g, ' ').trim();
}

/** Clients for the default engine (DOCKER_HOST) and for projects that name another one. */
@Injectable()
export class DockerEngines {
  private readonly engines = new Map<string, Engine>();

  constructor(private readonly config: AppConfigService) {}

  /** A project's engine: its own `dockerHost`, else DOCKER_HOST, else the local socket. */
  forProject(project: { dockerHost: string | null }): Engine {
    return this.forHost(project.dockerHost ?? this.config.dockerHost);
  }

  get defaultEngine(): Engine {
    return this.forHost(this.config.dockerHost);
  }

  /** Throws `EngineUnavailableError` when the engine does not answer within a few seconds. */
  async ping(engine: Engine): Promise<void> {
    const abortSignal = AbortSignal.timeout(PING_TIMEOUT_MS);
    try {
      await (engine.docker.ping as unknown as PingWithOptions).call(engine.docker, { abortSignal });
    } catch (error) {
      if (abortSignal.aborted) {
        throw new EngineUnavailableError(`the container engine at ${engine.label} did not answer within ${PING_TIMEOUT_MS} ms`);
      }
      throw engineError(engine, error);
    }
  }

  private forHost(host: string | undefined): Engine {
    const key = host ?? '';
    let engine = this.engines.get(key);
    if (!engine) {
      let docker: Docker;
      try {
        docker = new Docker(dockerOptionsFor(host, process.env));
      } catch (error) {
        throw new EngineUnavailableError(`${describeDockerHost(host)}: ${error instanceof Error ? error.message : String(error)}`);
      }
      engine = { docker, host, label: describeDockerHost(host) };
      this.engines.set(key, engine);
    }
    return engine;
  }
}
