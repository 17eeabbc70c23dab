/**
 * The config file as data (the TypeScript face of `ferry.schema.json`): listeners, the admin API,
 * apps, upstreams and sites. Sites and routes are `src/route/spec.ts`'s.
 *
 * @module
 */

import type { SiteSpec, UpstreamSpec } from "../route/spec.ts";

/** An app under `"apps"`: exactly one of `wsgi`, `asgi` or `module`. */
export interface AppSpec {
  /** A WSGI app, `module:callable`. */
  wsgi?: string;
  /** An ASGI app, `module:callable`. */
  asgi?: string;
  /** A TypeScript module (WSGI-style app or `{ fetch }`). */
  module?: string;
  /** The Python interpreter. @default {"/usr/bin/python3" when present, else "python3"} */
  python?: string;
  /** The folder the workers start in. */
  chdir?: string;
  /** More import paths. */
  pythonpath?: string[];
  /** Worker processes. */
  workers?: number;
  /** Threads per WSGI worker. */
  threads?: number;
  /** Requests at once per ASGI worker. */
  concurrency?: number;
  /** Seconds a request may take. */
  timeout?: number;
  /** Requests before a worker is replaced (0: never). */
  max_requests?: number;
  /** Requests waiting for a worker. */
  max_queue?: number;
  /** Seconds a request may wait for a worker. */
  queue_timeout?: number;
  /** ASGI lifespan events. */
  lifespan?: "auto" | "on" | "off";
}

/** A whole config. */
export interface FerryConfig {
  /** The schema, for editors. */
  $schema?: string;
  /** Listeners: `HOST:PORT` or false. */
  listen?: { http?: string | false; https?: string | false };
  /** The admin API's listener, or false. */
  admin?: { listen: string } | false;
  /** Apps by name. */
  apps?: Record<string, AppSpec>;
  /** Upstream pools by name. */
  upstreams?: Record<string, UpstreamSpec>;
  /** Sites. */
  sites?: SiteSpec[];
}
