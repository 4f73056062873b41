import { describe, expect, it } from 'vitest';
import { hostAllowed } from './allowed-hosts';

const allowed = (url: string, list: string[]) => hostAllowed(new URL(url), list);

describe('hostAllowed', () => {
  it('allows any host when the list is empty', () => {
    expect(allowed('http://anything.example/x', [])).toBe(true);
  });

  it('matches host names exactly, case-insensitively', () => {
    expect(allowed('http://API.example.com/health', ['api.example.com'])).toBe(true);
    expect(allowed('http://api.example.com.evil.net/', ['api.example.com'])).toBe(false);
    expect(allowed('http://example.com/', ['api.example.com'])).toBe(false);
  });

  it('matches subdomains with *. but not the bare domain or look-alikes', () => {
    expect(allowed('https://a.b.example.com/', ['*.example.com'])).toBe(true);
    expect(allowed('https://example.com/', ['*.example.com'])).toBe(false);
    expect(allowed('https://badexample.com/', ['*.example.com'])).toBe(false);
  });

  it('checks the port when the entry names one, with the scheme default otherwise', () => {
    expect(allowed('http://127.0.0.1:8080/', ['127.0.0.1:8080'])).toBe(true);
    expect(allowed('http://127.0.0.1:8081/', ['127.0.0.1:8080'])).toBe(false);
    expect(allowed('https://svc.local/', ['svc.local:443'])).toBe(true);
    expect(allowed('http://svc.local/', ['svc.local:443'])).toBe(false);
    expect(allowed('http://127.0.0.1:9999/', ['127.0.0.1'])).toBe(true);
  });

  it('matches IPv6 literals written in brackets', () => {
    expect(allowed('http://[::1]:8080/', ['[::1]:8080'])).toBe(true);
  });
});
