/**
 * The reverse-proxy rows of `deno task bench`: ferry `--proxy`, Caddy's `reverse_proxy` and
 * nginx's `proxy_pass` (with upstream keep-alive; each keeps up to 128 idle upstream connections,
 * ferry's default) in front of the same upstream, an nginx that
 * answers `/hello` and serves the 1 MiB file, pinned to the other CPU. Each proxy starts its own
 * copy of that upstream, stopped with it.
 *
 * @module
 */

import { join } from "node:path";
import {
  freePort,
  nginxBin,
  type Peer,
  pinned,
  spawn,
  startFerry,
  stop,
  waitForPort,
  which,
} from "./bench_kit.ts";

/** Caddy, when installed (Debian's `caddy`, 2.6.2 here). */
export const caddyBin: string | undefined = await which("caddy");

/** The upstream every proxy row asks: nginx on CPU 1, `/hello` and `/static/bench-1m.bin`. */
async function upstream(dir: string, name: string): Promise<{ port: number; child: Deno.ChildProcess }> {
  const port = freePort();
  const tmp = join(dir, `upstream-${name.replace(/\W/g, "")}-${port}`);
  await Deno.mkdir(tmp, { recursive: true });
  const conf = join(tmp, "nginx.conf");
  await Deno.writeTextFile(
    conf,
    `user root;
worker_processes 1;
daemon off;
pid ${tmp}/nginx.pid;
error_log ${tmp}/error.log;
events { worker_connections 20000; }
http {
  access_log off;
  sendfile on;
  keepalive_requests 10000000;
  client_body_temp_path ${tmp}/body;
  proxy_temp_path ${tmp}/proxy;
  fastcgi_temp_path ${tmp}/fastcgi;
  uwsgi_temp_path ${tmp}/uwsgi;
  scgi_temp_path ${tmp}/scgi;
  server {
    listen 127.0.0.1:${port};
    location = /hello { default_type "text/plain; charset=utf-8"; return 200 "Hello, World!"; }
    location /static/ { alias ${dir}/www/; }
  }
}
`,
  );
  const child = spawn(pinned(1, [nginxBin!, "-c", conf, "-p", tmp]));
  await waitForPort(port, child, "the proxy rows' upstream");
  return { port, child };
}

/** `start`'s result; when it fails, the upstream started for it is stopped too. */
async function started<T>(start: Promise<T>, upstream: Deno.ChildProcess): Promise<T> {
  try {
    return await start;
  } catch (e) {
    await stop({ name: "upstream", child: upstream });
    throw e;
  }
}

/** ferry `--proxy / =upstream` (every path proxied). */
export async function startFerryProxy(dir: string): Promise<Peer> {
  const up = await upstream(dir, "ferry");
  const peer = await started(
    startFerry("ferry --proxy", dir, ["--log-format", "none", "--proxy", `/=127.0.0.1:${up.port}`]),
    up.child,
  );
  return { ...peer, also: [up.child] };
}

/** Caddy 2 `reverse_proxy` to the upstream (admin and automatic HTTPS off, no logs). */
export async function startCaddyProxy(dir: string): Promise<Peer> {
  const up = await upstream(dir, "caddy");
  const http = freePort();
  const file = join(dir, `Caddyfile-${http}`);
  await Deno.writeTextFile(
    file,
    `{
	admin off
	auto_https off
}
http://127.0.0.1:${http} {
	reverse_proxy 127.0.0.1:${up.port} {
		transport http {
			keepalive_idle_conns_per_host 128
		}
	}
}
`,
  );
  const child = spawn(pinned(0, [caddyBin!, "run", "--config", file, "--adapter", "caddyfile"]), {
    HOME: dir,
    XDG_DATA_HOME: dir,
    XDG_CONFIG_HOME: dir,
  });
  await started(waitForPort(http, child, "caddy"), up.child);
  return { name: "caddy", child, http, also: [up.child] };
}

/** nginx `proxy_pass` to the upstream with `keepalive 128` (HTTP/1.1 and no Connection header upstream). */
export async function startNginxProxy(dir: string): Promise<Peer> {
  const up = await upstream(dir, "nginx");
  const http = freePort();
  const tmp = join(dir, `nginx-proxy-${http}`);
  await Deno.mkdir(tmp, { recursive: true });
  const conf = join(tmp, "nginx.conf");
  // One process (no master): the bench reads the CPU of the process it started.
  await Deno.writeTextFile(
    conf,
    `user root;
master_process off;
daemon off;
pid ${tmp}/nginx.pid;
error_log ${tmp}/error.log;
events { worker_connections 20000; }
http {
  access_log off;
  keepalive_requests 10000000;
  client_body_temp_path ${tmp}/body;
  proxy_temp_path ${tmp}/proxy;
  fastcgi_temp_path ${tmp}/fastcgi;
  uwsgi_temp_path ${tmp}/uwsgi;
  scgi_temp_path ${tmp}/scgi;
  upstream backend { server 127.0.0.1:${up.port}; keepalive 128; }
  server {
    listen 127.0.0.1:${http};
    location / {
      proxy_pass http://backend;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $host;
      proxy_set_header X-Forwarded-For $remote_addr;
    }
  }
}
`,
  );
  const child = spawn(pinned(0, [nginxBin!, "-c", conf, "-p", tmp]));
  await started(waitForPort(http, child, "nginx proxy_pass"), up.child);
  return { name: "nginx proxy_pass", child, http, also: [up.child] };
}
