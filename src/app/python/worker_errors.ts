/**
 * Why a Python worker could not serve: its app failed to import, its ASGI lifespan startup failed,
 * or the process (or its socket) went away while ferry needed it.
 *
 * @module
 */

/** The app failed to import: the traceback's last line, and the whole traceback. */
export class WsgiImportError extends Error {
  /** The whole traceback. */
  readonly traceback: string;
  /** Wraps a worker's IMPORT_ERROR. */
  constructor(app: string, traceback: string, kind: "WSGI" | "ASGI" = "WSGI") {
    const last = traceback.trim().split("\n").at(-1) ?? "import failed";
    super(`the ${kind} app ${app} could not be loaded: ${last}`);
    this.name = "WsgiImportError";
    this.traceback = traceback;
  }
}

/** The ASGI app's lifespan startup failed (`lifespan.startup.failed`, or it raised with lifespan on). */
export class AsgiStartupError extends Error {
  /** The app's message, or its traceback. */
  readonly detail: string;
  /** Wraps a worker's STARTUP_FAILED. */
  constructor(app: string, detail: string) {
    const last = detail.trim().split("\n").at(-1) ?? "startup failed";
    super(`the ASGI app ${app} failed its lifespan startup: ${last}`);
    this.name = "AsgiStartupError";
    this.detail = detail;
  }
}

/** The worker process ended (or its socket broke) while ferry needed it. */
export class WorkerGone extends Error {
  /** Makes the error. */
  constructor(message: string) {
    super(message);
    this.name = "WorkerGone";
  }
}
