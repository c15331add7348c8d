/**
 * Argument validation for the module's public functions. Every check throws an Error whose message
 * names the argument and the rule; values of secrets never reach these functions.
 */

/** Azure Container Registry name: 5–50 alphanumerics, without `.azurecr.io`. Returns it lower-cased. */
export function validateAcrName(value: string): string {
  const v = value.trim()
  if (v.toLowerCase().endsWith(".azurecr.io")) {
    throw new Error(`acrName: give the registry name without ".azurecr.io" (got "${v}")`)
  }
  if (!/^[A-Za-z0-9]{5,50}$/.test(v)) {
    throw new Error(`acrName: an ACR name has 5 to 50 letters or digits only (got "${v}")`)
  }
  return v.toLowerCase()
}

/** AKS cluster name: 1–63 letters, digits, `-` or `_`, starting and ending with a letter or digit. */
export function validateAksClusterName(value: string): string {
  const v = value.trim()
  if (!/^[A-Za-z0-9](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9])?$/.test(v)) {
    throw new Error(
      `aksCluster: 1 to 63 letters, digits, "-" or "_", starting and ending with a letter or digit (got "${v}")`,
    )
  }
  return v
}

/** Azure resource group: 1–90 of letters, digits, `_ - . ( )`, not ending with a period. */
export function validateResourceGroup(value: string): string {
  const v = value.trim()
  if (!/^[A-Za-z0-9_.()-]{1,90}$/.test(v) || v.endsWith(".")) {
    throw new Error(
      `resourceGroup: 1 to 90 letters, digits, "_", "-", ".", "(", ")", not ending with "." (got "${v}")`,
    )
  }
  return v
}

/**
 * An image tag we push (the commit SHA or an operator's tag): OCI tag grammar, and never `latest`,
 * which the module adds itself where allowed.
 */
export function validateImageTag(value: string): string {
  const v = value.trim()
  if (!/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/.test(v)) {
    throw new Error(`tag: an image tag is 1 to 128 of [A-Za-z0-9_.-], not starting with "." or "-" (got "${v}")`)
  }
  if (v === "latest") {
    throw new Error(`tag: "latest" is set by the pipeline itself on pushes; give the commit SHA or a release tag`)
  }
  return v
}

const NAME_COMPONENT = "[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
const DOMAIN = "(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)(?:\\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*(?::[0-9]+)?"
const IMAGE_REF = new RegExp(
  `^(?:${DOMAIN}/)?${NAME_COMPONENT}(?:/${NAME_COMPONENT})*(?::([A-Za-z0-9_][A-Za-z0-9_.-]{0,127}))?(?:@(sha256:[a-f0-9]{64}))?$`,
)

/**
 * A base-image override (PYTHON_IMAGE, NODE_IMAGE, NGINX_IMAGE): a valid reference pinned by a tag
 * other than `latest` or by a digest.
 */
export function validatePinnedImageRef(argName: string, value: string): string {
  const v = value.trim()
  const m = IMAGE_REF.exec(v)
  if (!m) {
    throw new Error(`${argName}: not an image reference (got "${v}")`)
  }
  const tag = m[1]
  const digest = m[2]
  if (!digest && (!tag || tag === "latest")) {
    throw new Error(`${argName}: pin the image by a version tag or a digest, not "${tag ?? "(no tag)"}" (got "${v}")`)
  }
  return v
}

/** A kubectl duration such as `300s` or `5m`, between 10 seconds and 1 hour. */
export function validateTimeout(argName: string, value: string): string {
  const v = value.trim()
  const m = /^([0-9]{1,4})(s|m)$/.exec(v)
  if (!m) {
    throw new Error(`${argName}: a duration like "300s" or "5m" (got "${v}")`)
  }
  const seconds = Number(m[1]) * (m[2] === "m" ? 60 : 1)
  if (seconds < 10 || seconds > 3600) {
    throw new Error(`${argName}: between 10s and 60m (got "${v}")`)
  }
  return v
}

/** A MongoDB connection string handed to composeUp: `mongodb://` or `mongodb+srv://`. */
export function validateMongoUrl(value: string): string {
  const v = value.trim()
  if (!/^mongodb(\+srv)?:\/\/[^\s]+$/.test(v)) {
    // The URL may carry a password: never echo it.
    throw new Error(`mongoUrl: must start with "mongodb://" or "mongodb+srv://" and contain no spaces`)
  }
  return v
}

const REGISTRY_HOST = new RegExp(`^${DOMAIN}$`)

/** A registry host (`name.azurecr.io`, `host:5000`): no scheme, no path. */
export function validateRegistryHost(value: string): string {
  const v = value.trim()
  if (!REGISTRY_HOST.test(v) || v.length > 253) {
    throw new Error(`registry: a host name with an optional :port, no scheme or path (got "${v}")`)
  }
  return v
}

/** An absolute http(s) URL without credentials, query or fragment; returned without a trailing slash. */
export function validateHttpUrl(argName: string, value: string): string {
  const v = value.trim()
  let u: URL
  try {
    u = new URL(v)
  } catch {
    throw new Error(`${argName}: not a URL (got "${v.slice(0, 200)}")`)
  }
  if (u.protocol !== "https:" && u.protocol !== "http:") throw new Error(`${argName}: http:// or https:// only (got ${u.protocol})`)
  if (u.username || u.password) throw new Error(`${argName}: no credentials in the URL`)
  if (u.search || u.hash) throw new Error(`${argName}: no query or fragment`)
  return `${u.origin}${u.pathname.replace(/\/+$/, "")}`
}

/** deployAks --smoke-url. */
export function validateSmokeUrl(value: string): string {
  return validateHttpUrl("smokeUrl", value)
}

/** The smoke test's default URL: https:// and the first Ingress host of the deployed overlay. */
export function smokeUrlOf(hosts: string[]): string {
  if (hosts.length === 0) {
    throw new Error("smokeUrl: the overlay's Ingress names no host; pass --smoke-url, or --smoke-test=false to deploy without a smoke test")
  }
  return validateSmokeUrl(`https://${hosts[0]}`)
}
