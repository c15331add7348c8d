/**
 * Build arguments for Dockerfile.backend and Dockerfile.ui (spec §2.2, §8.4; docs/contracts.md §5).
 */
import { validatePinnedImageRef } from "./validate.js"

/** Same shape as the SDK's `BuildArg`. */
export interface BuildArgPair {
  name: string
  value: string
}

export interface UiBuildOptions {
  apiBaseUrl: string
  entraClientId: string
  entraAuthority: string
  nodeImage?: string
  nginxImage?: string
}

const GUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/

/** VITE_API_BASE_URL: a path starting with `/` or an http(s) URL; no spaces or quotes. */
export function validateApiBaseUrl(value: string): string {
  const v = value.trim()
  if (!/^(\/|https?:\/\/)[^\s"'`<>]*$/.test(v)) {
    throw new Error(`apiBaseUrl: a path starting with "/" or an http(s) URL (got "${v}")`)
  }
  return v
}

/**
 * Build args for the UI image. The Entra client ID and authority are public values (they end up in
 * the browser bundle), set both or neither: half a configuration builds a SPA that cannot sign in.
 */
export function uiBuildArgs(opts: UiBuildOptions): BuildArgPair[] {
  const apiBaseUrl = validateApiBaseUrl(opts.apiBaseUrl)
  const clientId = opts.entraClientId.trim()
  const authority = opts.entraAuthority.trim().replace(/\/+$/, "")
  if ((clientId === "") !== (authority === "")) {
    throw new Error("entraClientId and entraAuthority: set both (sign-in on) or neither (sign-in off)")
  }
  if (clientId !== "" && !GUID.test(clientId)) {
    throw new Error(`entraClientId: an application (client) ID is a GUID (got "${clientId}")`)
  }
  if (authority !== "" && !/^https:\/\/[A-Za-z0-9.-]+(:[0-9]+)?(\/[A-Za-z0-9._~-]+)*$/.test(authority)) {
    throw new Error(
      `entraAuthority: an https URL such as https://login.microsoftonline.com/<tenant-id> (got "${authority}")`,
    )
  }
  const args: BuildArgPair[] = [
    { name: "VITE_API_BASE_URL", value: apiBaseUrl },
    { name: "VITE_ENTRA_CLIENT_ID", value: clientId },
    { name: "VITE_ENTRA_AUTHORITY", value: authority },
  ]
  if (opts.nodeImage) args.push({ name: "NODE_IMAGE", value: validatePinnedImageRef("nodeImage", opts.nodeImage) })
  if (opts.nginxImage) args.push({ name: "NGINX_IMAGE", value: validatePinnedImageRef("nginxImage", opts.nginxImage) })
  return args
}

/** Build args for the backend image: only the optional base-image override. */
export function backendBuildArgs(pythonImage?: string): BuildArgPair[] {
  return pythonImage ? [{ name: "PYTHON_IMAGE", value: validatePinnedImageRef("pythonImage", pythonImage) }] : []
}
