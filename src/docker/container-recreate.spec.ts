import type Docker from 'dockerode';
import { describe, expect, it } from 'vitest';
import {
  backupNameOf,
  createdFromImageId,
  hasHealthcheck,
  originalNameOf,
  pinnedByDigest,
  planRecreate,
  sameImageId,
} from './container-recreate';

const ID = '0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef';

type ImageConfig = Docker.ImageInspectInfo['Config'];

/** An inspected container with just what planRecreate reads; `overrides` are merged one level deep. */
function containerInfo(
  overrides: {
    Config?: Partial<Docker.ContainerInspectInfo['Config']> & Record<string, unknown>;
    HostConfig?: Partial<Docker.HostConfig>;
    Mounts?: Docker.ContainerInspectInfo['Mounts'];
    Networks?: Record<string, Record<string, unknown>>;
  } = {},
): Docker.ContainerInspectInfo {
  return {
    Id: ID,
    Name: '/web',
    Config: {
      Hostname: ID.slice(0, 12),
      Domainname: '',
      User: '',
      AttachStdin: false,
      AttachStdout: false,
      AttachStderr: false,
      ExposedPorts: {},
      Tty: false,
      OpenStdin: false,
      StdinOnce: false,
      Env: ['PATH=/usr/bin:/bin'],
      Cmd: ['/bin/sh'],
      Image: 'registry.example/app:stable',
      Volumes: {},
      WorkingDir: '',
      Entrypoint: undefined,
      Labels: {},
      ...overrides.Config,
    },
    HostConfig: { NetworkMode: 'bridge', ...overrides.HostConfig },
    Mounts: overrides.Mounts ?? [],
    NetworkSettings: { Networks: overrides.Networks ?? { bridge: { Aliases: null, IPAMConfig: null, Links: null } } },
  } as unknown as Docker.ContainerInspectInfo;
}

function imageConfig(overrides: Partial<ImageConfig> = {}): ImageConfig {
  return { Env: ['PATH=/usr/bin:/bin'], Cmd: ['/bin/sh'], Labels: {}, ExposedPorts: {}, Volumes: {}, WorkingDir: '', User: '', ...overrides } as ImageConfig;
}

describe('backup names', () => {
  it('are deterministic and can be told apart from ordinary names', () => {
    expect(backupNameOf('web')).toBe('web-dts-rollback');
    expect(originalNameOf('web-dts-rollback')).toBe('web');
    expect(originalNameOf('web')).toBeNull();
    expect(originalNameOf('-dts-rollback')).toBeNull();
  });
});

describe('image references', () => {
  it('knows digest pins, image-ID references and equal IDs with or without the sha256: prefix', () => {
    expect(pinnedByDigest(`registry.example/app@sha256:${ID}`)).toBe(true);
    expect(pinnedByDigest('registry.example:5000/app:1.2')).toBe(false);
    expect(createdFromImageId(ID.slice(0, 12), `sha256:${ID}`)).toBe(true);
    expect(createdFromImageId(`sha256:${ID}`, `sha256:${ID}`)).toBe(true);
    expect(createdFromImageId('deadbeefcafe', `sha256:${ID}`)).toBe(false);
    expect(createdFromImageId('app:stable', `sha256:${ID}`)).toBe(false);
    expect(sameImageId(ID, `sha256:${ID}`)).toBe(true);
    expect(sameImageId(`sha256:${ID}`, 'sha256:other')).toBe(false);
  });

  it('knows whether a container has a healthcheck', () => {
    expect(hasHealthcheck({})).toBe(false);
    expect(hasHealthcheck({ Healthcheck: { Test: ['NONE'] } })).toBe(false);
    expect(hasHealthcheck({ Healthcheck: { Test: ['CMD-SHELL', 'true'] } })).toBe(true);
  });
});

describe('planRecreate', () => {
  it('keeps what was set on the container and leaves out what came from the old image', () => {
    const image = imageConfig({
      Env: ['PATH=/usr/bin:/bin', 'VERSION=1'],
      Labels: { 'org.opencontainers.image.version': '1', shared: 'image' },
      ExposedPorts: { '80/tcp': {} },
      Volumes: { '/cache': {} },
      WorkingDir: '/srv',
      User: 'app',
      Healthcheck: { Test: ['CMD', 'check'], Interval: 30e9, Retries: 3 },
    });
    const plan = planRecreate(
      containerInfo({
        Config: {
          Env: ['PATH=/usr/bin:/bin', 'VERSION=1', 'MODE=prod'],
          Labels: { 'org.opencontainers.image.version': '1', shared: 'container', 'com.docker.compose.project': 'p' },
          ExposedPorts: { '80/tcp': {}, '9000/tcp': {} },
          Volumes: { '/cache': {}, '/extra': {} },
          WorkingDir: '/srv',
          User: 'app',
          Cmd: ['/bin/sh'],
          Healthcheck: { Test: ['CMD', 'check'], Interval: 5e9, Retries: 3 },
        },
        HostConfig: { PortBindings: { '8080/tcp': [{ HostIp: '127.0.0.1', HostPort: '18080' }] } },
      }),
      image,
      'registry.example/app:stable',
    );
    expect(plan.create).toMatchObject({
      Image: 'registry.example/app:stable',
      Env: ['MODE=prod'],
      Labels: { shared: 'container', 'com.docker.compose.project': 'p' },
      ExposedPorts: { '9000/tcp': {}, '8080/tcp': {} },
      Volumes: { '/extra': {} },
      Healthcheck: { Interval: 5e9 },
    });
    for (const field of ['Cmd', 'Entrypoint', 'WorkingDir', 'User', 'Hostname']) expect(plan.create).not.toHaveProperty(field);
  });

  it('keeps CMD with an own entrypoint, CMD alone when only it is own, and neither when both are the image’s', () => {
    const image = imageConfig({ Entrypoint: ['/entry'], Cmd: ['serve'] });
    const own = planRecreate(containerInfo({ Config: { Entrypoint: ['/custom'], Cmd: ['serve'] } }), image, 'app');
    expect(own.create).toMatchObject({ Entrypoint: ['/custom'], Cmd: ['serve'] });
    const ownCmd = planRecreate(containerInfo({ Config: { Entrypoint: ['/entry'], Cmd: ['migrate'] } }), image, 'app');
    expect(ownCmd.create.Cmd).toEqual(['migrate']);
    expect(ownCmd.create).not.toHaveProperty('Entrypoint');
    const defaults = planRecreate(containerInfo({ Config: { Entrypoint: '/entry', Cmd: ['serve'] } }), image, 'app');
    expect(defaults.create).not.toHaveProperty('Cmd');
    expect(defaults.create).not.toHaveProperty('Entrypoint');
  });

  it('treats Podman’s "/" and an empty [] entrypoint as the image’s unset values', () => {
    const plan = planRecreate(containerInfo({ Config: { WorkingDir: '/', Entrypoint: [], Cmd: ['sleep', '1'] } }), imageConfig({ WorkingDir: '' }), 'app');
    expect(plan.create).not.toHaveProperty('WorkingDir');
    expect(plan.create).not.toHaveProperty('Entrypoint');
    expect(plan.create.Cmd).toEqual(['sleep', '1']);
  });

  it('drops a generated hostname (and the HOSTNAME Podman puts in the environment), keeps a chosen one', () => {
    const generated = planRecreate(
      containerInfo({ Config: { Env: [`HOSTNAME=${ID.slice(0, 12)}`, 'A=1'] } }),
      imageConfig(),
      'app',
    );
    expect(generated.create).not.toHaveProperty('Hostname');
    expect(generated.create.Env).toEqual(['A=1']);
    const chosen = planRecreate(containerInfo({ Config: { Hostname: 'db-primary', Env: ['HOSTNAME=db-primary'] } }), imageConfig(), 'app');
    expect(chosen.create).toMatchObject({ Hostname: 'db-primary', Env: ['HOSTNAME=db-primary'] });
  });

  it('keeps everything when the old image is gone', () => {
    const plan = planRecreate(containerInfo({ Config: { Env: ['PATH=/usr/bin:/bin'], WorkingDir: '/srv' } }), null, 'app');
    expect(plan.create).toMatchObject({ Env: ['PATH=/usr/bin:/bin'], Cmd: ['/bin/sh'], WorkingDir: '/srv' });
  });

  it('keeps anonymous volumes by name, binds and mounts as they were', () => {
    const plan = planRecreate(
      containerInfo({
        HostConfig: {
          Binds: ['data:/data:rw', '/srv/conf:/conf:ro'],
          Mounts: [{ Type: 'volume', Source: '', Target: '/mounted' }],
        },
        Mounts: [
          { Type: 'volume', Name: 'data', Source: '/var/lib/x', Destination: '/data', Mode: '', RW: true, Propagation: '' },
          { Type: 'bind', Source: '/srv/conf', Destination: '/conf', Mode: '', RW: false, Propagation: '' },
          { Type: 'volume', Name: 'f00d', Source: '/var/lib/y', Destination: '/cache', Mode: '', RW: true, Propagation: '' },
          { Type: 'volume', Name: 'beef', Source: '/var/lib/z', Destination: '/ro-cache', Mode: '', RW: false, Propagation: '' },
          { Type: 'volume', Name: 'cafe', Source: '/var/lib/w', Destination: '/mounted', Mode: '', RW: true, Propagation: '' },
        ],
      }),
      imageConfig(),
      'app',
    );
    expect(plan.create.HostConfig?.Binds).toEqual(['data:/data:rw', '/srv/conf:/conf:ro', 'f00d:/cache', 'beef:/ro-cache:ro']);
    expect(plan.create.HostConfig?.Mounts).toEqual([{ Type: 'volume', Source: 'cafe', Target: '/mounted' }]);
  });

  it('rewrites what inspect reports in a form create does not take (Podman ulimits, links); drops Podman’s StopTimeout 0', () => {
    const plan = planRecreate(
      containerInfo({
        Config: { StopTimeout: 0, StopSignal: 'SIGQUIT' },
        HostConfig: {
          Ulimits: [{ Name: 'RLIMIT_NOFILE', Soft: 1024, Hard: 1024 }, { Name: 'nproc', Soft: 10, Hard: 10 }],
          Links: ['/db:/web/database'],
          RestartPolicy: { Name: 'unless-stopped', MaximumRetryCount: 0 },
        },
      }),
      imageConfig(),
      'app',
    );
    expect(plan.create.HostConfig).toMatchObject({
      Ulimits: [{ Name: 'nofile', Soft: 1024, Hard: 1024 }, { Name: 'nproc', Soft: 10, Hard: 10 }],
      Links: ['db:database'],
      RestartPolicy: { Name: 'unless-stopped', MaximumRetryCount: 0 },
    });
    expect(plan.create.StopSignal).toBe('SIGQUIT');
    expect(plan.create).not.toHaveProperty('StopTimeout');
    expect(planRecreate(containerInfo({ Config: { StopTimeout: 30 } }), imageConfig(), 'app').create.StopTimeout).toBe(30);
  });

  it('keeps networks with their aliases and static addresses but not the old ID alias; connects the NetworkMode one at create', () => {
    const plan = planRecreate(
      containerInfo({
        HostConfig: { NetworkMode: 'proj_default' },
        Networks: {
          other: { Aliases: ['cache'], IPAMConfig: null, Links: null, IPAddress: '10.0.0.5' },
          proj_default: { Aliases: ['web', ID.slice(0, 12)], IPAMConfig: { IPv4Address: '10.1.0.9' }, Links: null, IPAddress: '10.1.0.9' },
        },
      }),
      imageConfig(),
      'app',
    );
    expect(plan.primaryNetwork).toBe('proj_default');
    expect(plan.endpoints).toEqual({
      other: { Aliases: ['cache'] },
      proj_default: { Aliases: ['web'], IPAMConfig: { IPv4Address: '10.1.0.9' } },
    });
    expect(plan.create.NetworkingConfig).toEqual({ EndpointsConfig: { proj_default: plan.endpoints.proj_default } });
  });

  it('gives no networks nor hostname to a container sharing another one’s network', () => {
    const plan = planRecreate(
      containerInfo({ Config: { Hostname: 'chosen' }, HostConfig: { NetworkMode: 'container:abc' }, Networks: {} }),
      imageConfig(),
      'app',
    );
    expect(plan.primaryNetwork).toBeNull();
    expect(plan.create).not.toHaveProperty('NetworkingConfig');
    expect(plan.create).not.toHaveProperty('Hostname');
    expect(plan.create.HostConfig?.NetworkMode).toBe('container:abc');
  });
});
