/**
 * HEALTHCHECK_ALLOWED_HOSTS: entries are host names (`api.example.com`), wildcards for
 * subdomains (`*.example.com`) or either with a port (`127.0.0.1:8080`). Empty = any host.
 */
export function hostAllowed(url: URL, allowed: readonly string[]): boolean {
  if (allowed.length === 0) return true;
  const hostname = url.hostname.toLowerCase();
  const port = url.port || (url.protocol === 'https:' ? '443' : '80');
  return allowed.some((entry) => {
    const match = /^(.*?)(?::(\d+))?$/.exec(entry.toLowerCase());
    if (!match) return false;
    const [, pattern, entryPort] = match;
    if (entryPort !== undefined && entryPort !== port) return false;
    if (pattern.startsWith('*.')) return hostname.endsWith(pattern.slice(1)) && hostname.length > pattern.length - 1;
    return hostname === pattern;
  });
}
