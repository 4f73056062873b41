import type Docker from 'dockerode';

/**
 * The pure part of recreating a container on a newer image, as Watchtower does it: the old
 * container's own configuration is kept, but what only came from the old image's defaults is
 * left out so that the new image's defaults apply.
 */

/** Where the old container waits while its replacement is checked; deterministic so a crash can be repaired. */
export const BACKUP_SUFFIX = '-dts-rollback';

export const backupNameOf = (name: string): string => `${name}${BACKUP_SUFFIX}`;

/** The container a backup name stands for; null when `name` is no backup. */
export function originalNameOf(name: string): string | null {
  return name.endsWith(BACKUP_SUFFIX) && name.length > BACKUP_SUFFIX.length ? name.slice(0, -BACKUP_SUFFIX.length) : null;
}

export const pinnedByDigest = (reference: string): boolean => reference.includes('@sha256:');

const bareId = (id: string): string => id.replace(/^sha256:/, '');

export const sameImageId = (a: string, b: string): boolean => bareId(a) === bareId(b);

/** A container created from an image ID has no reference that a pull could refresh. */
export function createdFromImageId(reference: string, imageId: string): boolean {
  const candidate = bareId(reference);
  return /^[0-9a-f]{12,64}$/.test(candidate) && bareId(imageId).startsWith(candidate);
}

export interface RecreatePlan {
  /** Everything but the name and the networks other than `primaryNetwork`. */
  create: Docker.ContainerCreateOptions;
  /** Connected at create; null when the container has no networks of its own (host, none, container:…). */
  primaryNetwork: string | null;
  /** Every network the old container was on, with what was configured for it (aliases, static IPs, links). */
  endpoints: Docker.EndpointsConfig;
}

type ImageConfig = Docker.ImageInspectInfo['Config'];
type HealthConfig = Docker.HealthConfig;

/** What inspect shows of a container's config, with the fields @types/dockerode leaves out. */
type InspectedConfig = Docker.ContainerInspectInfo['Config'] & { StopSignal?: string; StopTimeout?: number; MacAddress?: string };

const asList = (value: string | string[] | null | undefined): string[] => (value == null ? [] : Array.isArray(value) ? value : [value]);

const sameList = (a: string | string[] | null | undefined, b: string | string[] | null | undefined): boolean => {
  const left = asList(a);
  const right = asList(b);
  return left.length === right.length && left.every((item, index) => item === right[index]);
};

/** '' and '/' both mean the root: Podman reports '/' for a container whose image set none. */
const sameWorkingDir = (a: string | undefined, b: string | undefined): boolean => (a || '/') === (b || '/');

/** The options that recreate `container` on `reference`; `oldImage` is the config of the image it runs now (null when gone). */
export function planRecreate(container: Docker.ContainerInspectInfo, oldImage: ImageConfig | null, reference: string): RecreatePlan {
  const config = container.Config as InspectedConfig;
  const image: Partial<ImageConfig> = oldImage ?? {};
  const networkMode = container.HostConfig.NetworkMode ?? '';
  const sharesNetwork = networkMode.startsWith('container:');
  const ownNetworks = !sharesNetwork && networkMode !== 'host' && networkMode !== 'none';

  // A generated hostname is the old container's ID: the new one gets its own.
  const generatedHostname = Boolean(config.Hostname) && container.Id.startsWith(config.Hostname);
  const dropHostname = generatedHostname || sharesNetwork;

  const imageEnv = new Set(image.Env ?? []);
  const env = (config.Env ?? []).filter(
    // Podman writes the generated hostname into the environment too.
    (entry) => !imageEnv.has(entry) && !(dropHostname && entry === `HOSTNAME=${config.Hostname}`),
  );

  const imageLabels = image.Labels ?? {};
  const labels = Object.fromEntries(Object.entries(config.Labels ?? {}).filter(([key, value]) => imageLabels[key] !== value));

  // An entrypoint set on the container resets the image's CMD, so CMD is only the image's when both are.
  const defaultEntrypoint = sameList(config.Entrypoint, image.Entrypoint);
  const defaultCmd = defaultEntrypoint && sameList(config.Cmd, image.Cmd);

  const imagePorts = image.ExposedPorts ?? {};
  const exposedPorts: Record<string, object> = {};
  for (const port of Object.keys(config.ExposedPorts ?? {})) if (!(port in imagePorts)) exposedPorts[port] = {};
  for (const port of Object.keys(container.HostConfig.PortBindings ?? {})) exposedPorts[port] = {};

  const imageVolumes = image.Volumes ?? {};
  const volumes = Object.fromEntries(Object.entries(config.Volumes ?? {}).filter(([path]) => !(path in imageVolumes)));

  const healthcheck = ownHealthcheck(config.Healthcheck, image.Healthcheck);

  const create: Docker.ContainerCreateOptions = {
    ...(!dropHostname && config.Hostname && { Hostname: config.Hostname }),
    ...(config.Domainname && { Domainname: config.Domainname }),
    ...(config.User && config.User !== image.User && { User: config.User }),
    AttachStdin: config.AttachStdin,
    AttachStdout: config.AttachStdout,
    AttachStderr: config.AttachStderr,
    Tty: config.Tty,
    OpenStdin: config.OpenStdin,
    StdinOnce: config.StdinOnce,
    Env: env,
    ...(!defaultCmd && { Cmd: asList(config.Cmd) }),
    ...(!defaultEntrypoint && { Entrypoint: asList(config.Entrypoint) }),
    Image: reference,
    Labels: labels,
    ...(Object.keys(volumes).length > 0 && { Volumes: volumes }),
    ...(!sameWorkingDir(config.WorkingDir, image.WorkingDir) && { WorkingDir: config.WorkingDir }),
    ...(config.MacAddress && { MacAddress: config.MacAddress }),
    ExposedPorts: exposedPorts,
    ...(config.StopSignal && { StopSignal: config.StopSignal }),
    // Podman reports 0 for "not set", which would mean "kill at once" on the new container.
    ...(config.StopTimeout ? { StopTimeout: config.StopTimeout } : {}),
    ...(healthcheck && { Healthcheck: healthcheck }),
    HostConfig: hostConfigOf(container),
  };

  const endpoints: Docker.EndpointsConfig = {};
  if (ownNetworks) {
    const shortId = container.Id.slice(0, 12);
    for (const [network, endpoint] of Object.entries(container.NetworkSettings?.Networks ?? {})) {
      // The engine adds the container's ID as an alias itself: the old ID would point at nothing.
      const aliases = ((endpoint.Aliases as string[] | null) ?? []).filter((alias) => alias !== shortId && alias !== container.Id);
      const settings: Docker.EndpointSettings = {};
      if (aliases.length > 0) settings.Aliases = aliases;
      const ipam = endpoint.IPAMConfig as Docker.IPAMConfig | null | undefined;
      if (ipam && Object.values(ipam).some((value) => Boolean(value) && (!Array.isArray(value) || value.length > 0))) settings.IPAMConfig = ipam;
      const links = endpoint.Links as string[] | null | undefined;
      if (links?.length) settings.Links = links;
      endpoints[network] = settings;
    }
  }
  const networks = Object.keys(endpoints);
  const primaryNetwork = networks.length === 0 ? null : networks.includes(networkMode) ? networkMode : networks[0];
  if (primaryNetwork !== null) create.NetworkingConfig = { EndpointsConfig: { [primaryNetwork]: endpoints[primaryNetwork] } };
  return { create, primaryNetwork, endpoints };
}

/** The container's healthcheck without the fields it took from the image; undefined when nothing is its own. */
function ownHealthcheck(container: HealthConfig | undefined, image: HealthConfig | undefined): HealthConfig | undefined {
  if (!container) return undefined;
  if (!image) return container;
  const own: HealthConfig = {};
  if (!sameList(container.Test, image.Test)) own.Test = container.Test;
  for (const field of ['Interval', 'Timeout', 'StartPeriod', 'StartInterval', 'Retries'] as const) {
    if (container[field] !== undefined && container[field] !== image[field]) own[field] = container[field];
  }
  return Object.keys(own).length > 0 ? own : undefined;
}

/** Destination of a `source:destination[:options]` bind. */
const bindDestination = (bind: string): string | undefined => bind.split(':')[1];

function hostConfigOf(container: Docker.ContainerInspectInfo): Docker.HostConfig {
  const hostConfig: Docker.HostConfig = { ...container.HostConfig };
  const binds = [...(hostConfig.Binds ?? [])];
  const mounts = (hostConfig.Mounts ?? []).map((mount) => ({ ...mount }));

  // Anonymous volumes are kept by name, so the new container sees the same data.
  for (const mount of container.Mounts ?? []) {
    if (mount.Type !== 'volume' || !mount.Name) continue;
    if (binds.some((bind) => bindDestination(bind) === mount.Destination)) continue;
    const declared = mounts.find((entry) => entry.Target === mount.Destination);
    if (declared) {
      if (declared.Type === 'volume' && !declared.Source) declared.Source = mount.Name;
      continue;
    }
    binds.push(`${mount.Name}:${mount.Destination}${mount.RW ? '' : ':ro'}`);
  }
  if (binds.length > 0) hostConfig.Binds = binds;
  if (mounts.length > 0) hostConfig.Mounts = mounts;

  // Podman reports ulimits as RLIMIT_NOFILE but only accepts nofile back.
  if (hostConfig.Ulimits) {
    hostConfig.Ulimits = hostConfig.Ulimits.map((limit) => ({ ...limit, Name: limit.Name?.replace(/^RLIMIT_/, '').toLowerCase() }));
  }
  // Inspect shows links as /other:/this/alias; create wants other:alias.
  const links = hostConfig.Links as string[] | null | undefined;
  if (links?.length) {
    hostConfig.Links = links.map((link) => {
      const [target, alias] = link.split(':');
      return alias ? `${target.replace(/^\//, '')}:${alias.slice(alias.lastIndexOf('/') + 1)}` : link;
    });
  }
  return hostConfig;
}

/** Whether a container runs a HEALTHCHECK that can report healthy. */
export function hasHealthcheck(config: { Healthcheck?: HealthConfig }): boolean {
  const test = config.Healthcheck?.Test ?? [];
  return test.length > 0 && test[0] !== 'NONE';
}
